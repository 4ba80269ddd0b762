//! PostgreSQL `numeric` in both wire formats, from and to a decimal digit string with a scale.
//!
//! Arrow decimals are an unscaled integer plus a scale; PostgreSQL's binary `numeric` is a list
//! of base-10000 digits with a weight and a display scale. Both sides meet in [`Decimal`]: the
//! sign, the unscaled value's ASCII digits and the scale.

use bytes::{BufMut, BytesMut};

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;

/// A decimal number as `(-1)^negative * digits * 10^-scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    /// Whether the value is below zero.
    pub negative: bool,
    /// ASCII digits of the absolute unscaled value, most significant first, no sign.
    pub digits: Vec<u8>,
    /// Digits after the decimal point (negative: trailing zeros implied before it).
    pub scale: i32,
}

/// Why a binary `numeric` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum NumericError {
    /// The bytes are not a well-formed binary `numeric`.
    #[error("invalid binary numeric value")]
    Malformed,
    /// `NaN` and infinities have no Arrow decimal counterpart.
    #[error("numeric NaN or infinity is not supported here")]
    NotFinite,
}

/// Writes the text form: all `scale` fractional digits, like PostgreSQL prints `numeric(p, s)`.
pub(crate) fn write_text(buf: &mut BytesMut, negative: bool, digits: &[u8], scale: i32) {
    let is_zero = digits.iter().all(|&d| d == b'0');
    if negative && !is_zero {
        buf.put_u8(b'-');
    }
    if scale <= 0 {
        buf.put_slice(digits);
        if !is_zero {
            buf.put_bytes(b'0', scale.unsigned_abs() as usize);
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (int_part, frac_part) = digits.split_at(digits.len() - scale);
        buf.put_slice(int_part);
        buf.put_u8(b'.');
        buf.put_slice(frac_part);
    } else {
        buf.put_slice(b"0.");
        buf.put_bytes(b'0', scale - digits.len());
        buf.put_slice(digits);
    }
}

/// Writes the binary form (`ndigits, weight, sign, dscale, digits[]`, all big-endian 16-bit).
pub(crate) fn write_binary(buf: &mut BytesMut, negative: bool, digits: &[u8], scale: i32) {
    let dscale = scale.max(0) as usize;
    // The unsigned value as integer digits and exactly `dscale` fractional digits.
    let mut decimal: Vec<u8> = digits.to_vec();
    if scale < 0 {
        decimal.resize(decimal.len() + scale.unsigned_abs() as usize, b'0');
    }
    if decimal.len() < dscale {
        let mut padded = vec![b'0'; dscale - decimal.len()];
        padded.extend_from_slice(&decimal);
        decimal = padded;
    }
    let (int_part, frac_part) = decimal.split_at(decimal.len() - dscale);
    // Base-10000 groups: the integer part grouped leftwards from the point, the fraction
    // rightwards.
    let int_pad = (4 - int_part.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let padded: Vec<u8> = std::iter::repeat_n(b'0', int_pad)
        .chain(int_part.iter().copied())
        .chain(frac_part.iter().copied())
        .chain(std::iter::repeat_n(b'0', frac_pad))
        .collect();
    let groups: Vec<u16> = padded
        .chunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d.saturating_sub(b'0')))
        })
        .collect();
    let int_groups = (int_pad + int_part.len()) / 4;
    let (weight, sign, groups) = match groups.iter().position(|&g| g != 0) {
        None => (0, NUMERIC_POS, &groups[..0]),
        Some(first) => {
            let last = groups.iter().rposition(|&g| g != 0).unwrap_or(first);
            let weight = int_groups as i32 - 1 - first as i32;
            let sign = if negative { NUMERIC_NEG } else { NUMERIC_POS };
            (weight, sign, &groups[first..=last])
        }
    };
    buf.put_i16(groups.len() as i16);
    buf.put_i16(weight as i16);
    buf.put_u16(sign);
    buf.put_i16(dscale.min(i16::MAX as usize) as i16);
    for &g in groups {
        buf.put_u16(g);
    }
}

/// Reads a binary `numeric` (a bound parameter) into a [`Decimal`] with its display scale.
pub(crate) fn read_binary(bytes: &[u8]) -> Result<Decimal, NumericError> {
    let read_u16 = |at: usize| -> Result<u16, NumericError> {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(NumericError::Malformed)
    };
    let ndigits = read_u16(0)? as usize;
    let weight = read_u16(2)? as i16 as i64;
    let sign = read_u16(4)?;
    let dscale = read_u16(6)? as i16;
    if sign == NUMERIC_NAN || sign & 0xF000 == 0xD000 || sign & 0xF000 == 0xF000 {
        return Err(NumericError::NotFinite);
    }
    if sign != NUMERIC_POS && sign != NUMERIC_NEG || dscale < 0 {
        return Err(NumericError::Malformed);
    }
    if bytes.len() != 8 + ndigits * 2 {
        return Err(NumericError::Malformed);
    }
    let dscale = i64::from(dscale);
    // The value is sum(group[i] * 10000^(weight - i)); lay it out as a decimal string of the
    // integer part (weight+1 groups) and `dscale` fractional digits.
    let mut digits = Vec::new();
    let int_groups = weight + 1;
    let frac_groups = (dscale + 3) / 4;
    for g in 0..int_groups.max(0) + frac_groups {
        // Group index relative to the first stored group.
        let exponent = int_groups.max(0) - 1 - g;
        let index = weight - exponent;
        let group = if index >= 0 && (index as usize) < ndigits {
            read_u16(8 + index as usize * 2)?
        } else {
            0
        };
        if group > 9999 {
            return Err(NumericError::Malformed);
        }
        digits.extend_from_slice(format!("{group:04}").as_bytes());
    }
    // Keep exactly `dscale` fractional digits (PostgreSQL pads dscale up to whole groups).
    let int_digits = (int_groups.max(0) * 4) as usize;
    digits.truncate(int_digits + dscale as usize);
    let first_nonzero = digits.iter().position(|&d| d != b'0');
    let digits = match first_nonzero {
        Some(i) => digits[i..].to_vec(),
        None => vec![b'0'],
    };
    let negative = sign == NUMERIC_NEG && digits != b"0";
    Ok(Decimal {
        negative,
        digits,
        scale: dscale as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(negative: bool, digits: &str, scale: i32) -> String {
        let mut buf = BytesMut::new();
        write_text(&mut buf, negative, digits.as_bytes(), scale);
        String::from_utf8(buf.to_vec()).unwrap()
    }

    fn binary(negative: bool, digits: &str, scale: i32) -> Vec<u8> {
        let mut buf = BytesMut::new();
        write_binary(&mut buf, negative, digits.as_bytes(), scale);
        buf.to_vec()
    }

    /// Builds the expected binary form from its header and base-10000 digits.
    fn pg(weight: i16, sign: u16, dscale: i16, groups: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(groups.len() as i16).to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for g in groups {
            v.extend_from_slice(&g.to_be_bytes());
        }
        v
    }

    #[test]
    fn text_keeps_the_declared_scale() {
        assert_eq!(text(false, "150", 2), "1.50");
        assert_eq!(text(true, "5", 3), "-0.005");
        assert_eq!(text(false, "0", 2), "0.00");
        assert_eq!(text(true, "0", 0), "0");
        assert_eq!(text(false, "12", -3), "12000");
        assert_eq!(text(false, "123456789", 0), "123456789");
    }

    #[test]
    fn binary_matches_postgres_numeric_send() {
        // Expected values are what PostgreSQL 16's numeric_send produces.
        assert_eq!(binary(false, "150", 2), pg(0, NUMERIC_POS, 2, &[1, 5000]));
        assert_eq!(binary(false, "0", 2), pg(0, NUMERIC_POS, 2, &[]));
        assert_eq!(
            binary(true, "123456789", 0),
            pg(2, NUMERIC_NEG, 0, &[1, 2345, 6789])
        );
        assert_eq!(binary(false, "12", 4), pg(-1, NUMERIC_POS, 4, &[12]));
        assert_eq!(binary(false, "10000", 0), pg(1, NUMERIC_POS, 0, &[1]));
        assert_eq!(binary(false, "12", -4), pg(1, NUMERIC_POS, 0, &[12]));
        assert_eq!(
            binary(false, "123456", 6),
            pg(-1, NUMERIC_POS, 6, &[1234, 5600])
        );
    }

    #[test]
    fn binary_round_trips_through_read() {
        for (negative, digits, scale) in [
            (false, "150", 2),
            (true, "123456789", 0),
            (false, "12", 4),
            (false, "123456", 6),
            (false, "99999999999999999999", 5),
            (false, "0", 3),
        ] {
            let bytes = binary(negative, digits, scale);
            let back = read_binary(&bytes).unwrap();
            assert_eq!(
                text(
                    back.negative,
                    std::str::from_utf8(&back.digits).unwrap(),
                    back.scale
                ),
                text(negative, digits, scale)
            );
        }
    }

    #[test]
    fn malformed_and_nan_inputs_are_errors() {
        assert_eq!(read_binary(&[0, 1]), Err(NumericError::Malformed));
        assert_eq!(
            read_binary(&pg(0, NUMERIC_NAN, 0, &[])),
            Err(NumericError::NotFinite)
        );
        assert_eq!(
            read_binary(&pg(0, NUMERIC_POS, 0, &[10000])),
            Err(NumericError::Malformed)
        );
    }
}
