//! The one error answer of the routes outside GraphQL (downloads, BigCommerce callbacks and
//! webhook deliveries): a status and `{"error": "<plain message>", "code": "<CODE>"}`.
//! An internal failure is logged with a reference, and only the reference is answered.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{log_reference, AppError};

/// Why a route refused or failed.
#[derive(Debug)]
pub enum HttpError {
    /// 400 `BAD_REQUEST`: the request is malformed (the message says how).
    BadRequest(String),
    /// 401 `UNAUTHENTICATED` with `WWW-Authenticate: Bearer`: no valid bearer token.
    Unauthenticated,
    /// 401 `REFUSED`: a secret or a signature did not verify (the message says which).
    Refused(&'static str),
    /// 403 `FORBIDDEN`: the request is understood and refused (an altered link, or a role
    /// that may not).
    Forbidden(&'static str),
    /// 404 `NOT_FOUND`: missing, or belongs to another account.
    NotFound(&'static str),
    /// 410 `GONE`: it existed and has expired.
    Gone(&'static str),
    /// 502 `UPSTREAM`: BigCommerce refused or failed.
    Upstream(String),
    /// 500 `INTERNAL`: a bug or an infrastructure failure; the cause goes to the log only.
    Internal(AppError),
}

impl HttpError {
    /// The stable code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            HttpError::BadRequest(_) => "BAD_REQUEST",
            HttpError::Unauthenticated => "UNAUTHENTICATED",
            HttpError::Refused(_) => "REFUSED",
            HttpError::Forbidden(_) => "FORBIDDEN",
            HttpError::NotFound(_) => "NOT_FOUND",
            HttpError::Gone(_) => "GONE",
            HttpError::Upstream(_) => "UPSTREAM",
            HttpError::Internal(_) => "INTERNAL",
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::BadRequest(why) | HttpError::Upstream(why) => f.write_str(why),
            HttpError::Unauthenticated => f.write_str("authentication required"),
            HttpError::Refused(why)
            | HttpError::Forbidden(why)
            | HttpError::NotFound(why)
            | HttpError::Gone(why) => f.write_str(why),
            HttpError::Internal(_) => f.write_str("internal error"),
        }
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::Unauthenticated | HttpError::Refused(_) => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::NotFound(_) => StatusCode::NOT_FOUND,
            HttpError::Gone(_) => StatusCode::GONE,
            HttpError::Upstream(_) => StatusCode::BAD_GATEWAY,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            HttpError::Internal(e) => {
                let reference = log_reference();
                tracing::error!(error = %e.report(), reference = %reference, "request failed");
                format!("internal error (reference {reference}); it has been logged")
            }
            other => other.to_string(),
        };
        let mut answer = HttpResponse::build(self.status_code());
        if matches!(self, HttpError::Unauthenticated) {
            answer.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        answer.json(serde_json::json!({ "error": message, "code": self.code() }))
    }
}

/// A service's failure as an answer: user errors are a bad request (each as
/// `field: message`), a missing token is 401, anything else is internal.
impl From<AppError> for HttpError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::User(errors) => HttpError::BadRequest(
                errors
                    .iter()
                    .map(|e| match e.field.is_empty() {
                        true => e.message.clone(),
                        false => format!("{}: {}", e.field.join("."), e.message),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AppError::Unauthenticated => HttpError::Unauthenticated,
            AppError::Forbidden { .. } => HttpError::Forbidden("the caller's role may not do this"),
            other => HttpError::Internal(other),
        }
    }
}
