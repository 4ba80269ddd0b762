//! Request extractors whose rejections are problem details.
//!
//! axum's own `Json`, `Path` and `Query` reject with plain text; these wrappers turn the same
//! rejections into [`ApiError`]s so every error the API returns has one shape.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON body; a malformed one is a 400/415 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(value)| ApiJson(value))
            .map_err(ApiError::from)
    }
}

/// Path parameters; ones that do not parse are a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(ApiError::from)
    }
}

/// Query parameters; ones that do not parse are a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(ApiError::from)
    }
}

/// A JSON object body read as `T`. serde would also read a struct from an array (`[null]`);
/// the API documents objects, so anything else is a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiObject<T>(pub T);

impl<T, S> FromRequest<S> for ApiObject<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ApiJson(value) = ApiJson::<serde_json::Value>::from_request(req, state).await?;
        from_object(value).map(ApiObject)
    }
}

/// `value` read as `T` when it is a JSON object; a 400 problem otherwise.
pub fn from_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))
}

/// An optional JSON object body: empty or `null` means `T::default()`, anything else must be
/// a JSON object valid for `T` (a 400 problem otherwise). For actions whose options may all
/// be left out.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    if value.is_null() {
        return Ok(T::default());
    }
    from_object(value)
}
