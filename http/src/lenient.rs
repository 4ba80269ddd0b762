//! Integers as JSON Schema defines them: `3` and `3.0` are both the integer 3. serde rejects
//! `3.0` for a `u32`; request fields documented as integers use these helpers instead, so the
//! API accepts exactly what its OpenAPI document promises.

use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Number;

fn to_u32(n: &Number) -> Option<u32> {
    if let Some(u) = n.as_u64() {
        return u32::try_from(u).ok();
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
}

/// An optional unsigned 32-bit integer (`null` or absent: `None`).
pub fn opt_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    match Option::<Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(n) => to_u32(&n).map(Some).ok_or_else(|| {
            D::Error::custom(format!(
                "expected an integer from 0 to {}, got {n}",
                u32::MAX
            ))
        }),
    }
}

/// A present-or-absent optional integer: absent is `None` (keep), `null` is `Some(None)`
/// (clear), a number is `Some(Some(n))`. Use with `#[serde(default)]`.
pub fn present_opt_u32<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u32>>, D::Error> {
    opt_u32(deserializer).map(Some)
}

/// An unsigned 32-bit integer.
pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let n = Number::deserialize(deserializer)?;
    to_u32(&n).ok_or_else(|| {
        D::Error::custom(format!(
            "expected an integer from 0 to {}, got {n}",
            u32::MAX
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "super::opt_u32")]
        v: Option<u32>,
    }

    fn v(text: &str) -> Result<Option<u32>, serde_json::Error> {
        serde_json::from_str::<Probe>(text).map(|p| p.v)
    }

    #[test]
    fn integral_numbers_pass_and_others_fail() {
        assert_eq!(v(r#"{"v": 3}"#).unwrap(), Some(3));
        assert_eq!(v(r#"{"v": 3.0}"#).unwrap(), Some(3));
        assert_eq!(v(r#"{"v": null}"#).unwrap(), None);
        assert_eq!(v("{}").unwrap(), None);
        assert!(v(r#"{"v": 3.5}"#).is_err());
        assert!(v(r#"{"v": -1}"#).is_err());
        assert!(v(r#"{"v": 4294967296}"#).is_err());
        assert!(v(r#"{"v": "3"}"#).is_err());
    }
}
