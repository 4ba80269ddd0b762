//! Errors as RFC 9457 problem details.
//!
//! Every failure the API reports — its own, the catalog's, the engine's and axum's request
//! rejections — leaves as `application/problem+json` with a stable snake_case `code`, so
//! clients branch on the code and show the `detail`. Workflow problems also list each issue
//! by node and field (`errors`), which the canvas pins on the nodes.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flowforge_catalog::CatalogError;
use flowforge_engine::{EngineError, WorkflowIssue};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything an API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (body, path or query parameters).
    #[error("{detail}")]
    BadRequest {
        /// Stable code, e.g. `invalid_body`.
        code: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// No valid credentials were presented.
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    /// A login with an unknown email or a wrong password.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The caller is authenticated but its role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist or belongs to another tenant.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What was looked up.
        kind: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// No route matches the request path.
    #[error("no route for {0}")]
    NoRoute(String),
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The change conflicts with the current state (a taken name, a stale version).
    #[error("{0}")]
    Conflict(String),
    /// The body has the wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is too large.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A value the API understood but refuses (an empty name, an unknown role).
    #[error("{0}")]
    InvalidInput(String),
    /// A workflow definition that cannot be read or does not compile; every issue is listed.
    #[error("{detail}")]
    InvalidWorkflow {
        /// Summary.
        detail: String,
        /// Each problem, by node and field.
        issues: Vec<WorkflowIssue>,
    },
    /// More rows were asked for than one request may return.
    #[error("{0}")]
    RowLimitExceeded(String),
    /// A query ran past its time budget and was cancelled.
    #[error("{0}")]
    QueryTimeout(String),
    /// A query's result is larger than one request may return.
    #[error("{0}")]
    ResultTooLarge(String),
    /// The caller's request budget for the current window is used up.
    #[error("{detail}")]
    TooManyRequests {
        /// What the limit is.
        detail: String,
        /// Seconds until the next window (sent as `Retry-After`).
        retry_after_seconds: u64,
    },
    /// A dependency (identity provider, backend) could not be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A failure inside FlowForge; the detail is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One issue of a 422 problem, pinned on a node and field when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemIssue {
    /// The node the issue is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The config field (a path such as `conditions[0].column`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<WorkflowIssue> for ProblemIssue {
    fn from(issue: WorkflowIssue) -> Self {
        ProblemIssue {
            node: issue.node,
            field: issue.field,
            message: issue.message,
        }
    }
}

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type: `urn:flowforge:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Stable snake_case code to branch on.
    pub code: String,
    /// Workflow issues (422 only), each by node and field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemIssue>>,
}

impl ApiError {
    /// An [`ApiError::BadRequest`].
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidInput(_)
            | ApiError::InvalidWorkflow { .. }
            | ApiError::RowLimitExceeded(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::QueryTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::ResultTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::NoRoute(_) => "no_route",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::InvalidInput(_) => "invalid_input",
            ApiError::InvalidWorkflow { .. } => "invalid_workflow",
            ApiError::RowLimitExceeded(_) => "row_limit_exceeded",
            ApiError::QueryTimeout(_) => "query_timeout",
            ApiError::ResultTooLarge(_) => "result_too_large",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let code = self.code();
        let detail = match self {
            ApiError::Internal(_) => "an internal error occurred; it has been logged".to_string(),
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("urn:flowforge:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            errors: match self {
                ApiError::InvalidWorkflow { issues, .. } => {
                    Some(issues.iter().cloned().map(ProblemIssue::from).collect())
                }
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::TooManyRequests {
            retry_after_seconds,
            ..
        } = &self
        {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_seconds.max(&1).to_owned()),
            );
        }
        if self.status() == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"flowforge\""),
            );
        }
        response
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::NotFound { kind, id } => ApiError::NotFound { kind, id },
            CatalogError::Conflict(detail) => ApiError::Conflict(detail),
            CatalogError::InvalidInput(detail) => ApiError::InvalidInput(detail),
            CatalogError::InvalidCredentials => ApiError::InvalidCredentials,
            CatalogError::Storage(_) | CatalogError::Migration(_) => {
                ApiError::Internal(error.to_string())
            }
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::WorkflowJson(message) => ApiError::InvalidWorkflow {
                detail: "the workflow definition cannot be read".into(),
                issues: vec![WorkflowIssue::workflow(message)],
            },
            EngineError::InvalidWorkflow { issues } => ApiError::InvalidWorkflow {
                detail: format!(
                    "the workflow definition has {} problem{}",
                    issues.len(),
                    if issues.len() == 1 { "" } else { "s" }
                ),
                issues,
            },
            EngineError::UnknownNode(node) => ApiError::InvalidWorkflow {
                detail: format!("node '{node}' does not exist in the workflow"),
                issues: vec![WorkflowIssue::node(node, "no such node")],
            },
            EngineError::InvalidView { .. } => ApiError::InvalidWorkflow {
                detail: error.to_string(),
                issues: Vec::new(),
            },
            EngineError::Backend {
                ref message,
                unreachable: true,
                ..
            } => ApiError::Unavailable(message.clone()),
            other => match &other.sqlstate()[..2] {
                // Syntax, unknown names, bad values, unsupported features, read-only: the
                // request's fault.
                "42" | "22" | "0A" | "25" => {
                    ApiError::bad_request("invalid_query", other.to_string())
                }
                _ => ApiError::Internal(other.to_string()),
            },
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "the body must be JSON (Content-Type: application/json)".into(),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::bad_request("invalid_json", e.body_text())
            }
            JsonRejection::JsonDataError(e) => ApiError::bad_request("invalid_body", e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::bad_request("invalid_body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query_parameter", rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn catalog_errors_map_to_statuses_and_codes() {
        let cases = [
            (CatalogError::not_found("workflow", "w1"), 404, "not_found"),
            (CatalogError::Conflict("taken".into()), 409, "conflict"),
            (
                CatalogError::InvalidInput("empty".into()),
                422,
                "invalid_input",
            ),
            (CatalogError::InvalidCredentials, 401, "invalid_credentials"),
            (CatalogError::Storage("disk".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let (got, content_type, body) = body_of(ApiError::from(error)).await;
            assert_eq!(got.as_u16(), status);
            assert_eq!(content_type, PROBLEM_JSON);
            assert_eq!(body["status"], status);
            assert_eq!(body["code"], code);
            assert_eq!(body["type"], format!("urn:flowforge:problem:{code}"));
            assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        }
    }

    #[tokio::test]
    async fn internal_details_are_not_shown() {
        let (_, _, body) = body_of(CatalogError::Storage("secret path".into()).into()).await;
        assert!(!body.to_string().contains("secret path"), "{body}");
    }

    #[tokio::test]
    async fn workflow_issues_are_listed_by_node_and_field() {
        let error = EngineError::InvalidWorkflow {
            issues: vec![
                WorkflowIssue::field("f1", "conditions[0].column", "no column 'x'"),
                WorkflowIssue::workflow("the workflow has a cycle"),
            ],
        };
        let (status, _, body) = body_of(error.into()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "invalid_workflow");
        assert_eq!(
            body["errors"],
            serde_json::json!([
                {"node": "f1", "field": "conditions[0].column", "message": "no column 'x'"},
                {"message": "the workflow has a cycle"}
            ])
        );
        let (_, _, body) =
            body_of(EngineError::WorkflowJson("at nodes: missing".into()).into()).await;
        assert_eq!(body["errors"][0]["message"], "at nodes: missing");
    }

    #[tokio::test]
    async fn query_errors_are_the_callers_and_backend_outages_are_503() {
        let (status, _, body) = body_of(
            EngineError::UnknownRelation {
                name: "nope".into(),
            }
            .into(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_query");
        let (status, _, _) = body_of(
            EngineError::Backend {
                backend: "clickhouse".into(),
                message: "connection refused".into(),
                unreachable: true,
            }
            .into(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn query_limits_have_their_own_statuses_and_rate_limits_a_retry_after() {
        for (error, status, code) in [
            (
                ApiError::RowLimitExceeded("x".into()),
                422,
                "row_limit_exceeded",
            ),
            (ApiError::QueryTimeout("x".into()), 504, "query_timeout"),
            (
                ApiError::ResultTooLarge("x".into()),
                413,
                "result_too_large",
            ),
        ] {
            let (got, _, body) = body_of(error).await;
            assert_eq!((got.as_u16(), body["code"].as_str()), (status, Some(code)));
        }
        let response = ApiError::TooManyRequests {
            detail: "slow down".into(),
            retry_after_seconds: 17,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "17");
    }

    #[tokio::test]
    async fn unauthorized_answers_carry_a_bearer_challenge() {
        let response = ApiError::Unauthenticated("no token".into()).into_response();
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer realm=\"flowforge\""
        );
    }
}
