//! The one error type every server function returns.
//!
//! It crosses the wire (JSON) so the client can show a validation message next to the
//! field it concerns. Internal details never cross: `Internal` carries only a short,
//! honest message, the cause is logged on the server.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::Serialize;

/// On the wire `{"kind": "validation", "field": …, "message": …}` (internally tagged);
/// read by hand (below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// Bad input: `field` names the form field (as in the form's `name`).
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("Please log in.")]
    Unauthorized,
    #[error("{message}")]
    Forbidden { message: String },
    /// `what` names the missing thing ("Expense"); also the answer for things the caller may not see.
    #[error("{what} not found.")]
    NotFound { what: String },
    #[error("{message}")]
    Conflict { field: String, message: String },
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// Something broke on our side; the details are in the server log.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The database cannot be reached right now (restarting, failing over); the same
    /// request can be sent again in a moment. (A write cut off at its commit may have
    /// been saved: the live lists show it if so.)
    #[error("The service is briefly unavailable. Please try again in a moment.")]
    Unavailable,
    /// The request could not be carried out (network, bad encoding…).
    #[error("{message}")]
    Request { message: String },
}

/// Read by hand (`json`), keys in any order: the derived reader of an internally
/// tagged enum buffers the object into serde's `Content` first, which was about 50 KB
/// of the WASM client's code with `ServerFrame` (2026-12-06). serde reads it through
/// this reader too (`serde_via_json!`).
impl crate::json::FromJson for AppError {
    fn read(r: &mut crate::json::Reader<'_>) -> crate::json::JsonResult<Self> {
        use crate::json::{required, unknown};
        let (mut kind, mut field_name, mut message, mut what, mut retry) =
            (None, None, None, None, None);
        r.object(&mut |r, key| {
            match key {
                "kind" => kind = Some(r.str()?),
                "field" => field_name = Some(String::read(r)?),
                "message" => message = Some(String::read(r)?),
                "what" => what = Some(String::read(r)?),
                "retry_after_secs" => retry = Some(u64::read(r)?),
                _ => r.skip()?,
            }
            Ok(())
        })?;
        Ok(match &*required(kind, "kind")? {
            "validation" => AppError::Validation {
                field: required(field_name, "field")?,
                message: required(message, "message")?,
            },
            "unauthorized" => AppError::Unauthorized,
            "forbidden" => AppError::Forbidden {
                message: required(message, "message")?,
            },
            "not_found" => AppError::NotFound {
                what: required(what, "what")?,
            },
            "conflict" => AppError::Conflict {
                field: required(field_name, "field")?,
                message: required(message, "message")?,
            },
            "rate_limited" => AppError::RateLimited {
                retry_after_secs: required(retry, "retry_after_secs")?,
            },
            "internal" => AppError::Internal,
            "unavailable" => AppError::Unavailable,
            "request" => AppError::Request {
                message: required(message, "message")?,
            },
            other => return Err(unknown(r, other)),
        })
    }
}

crate::json::serde_via_json!(AppError);

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound {
            what: what.to_owned(),
        }
    }

    pub fn request(message: impl Into<String>) -> Self {
        AppError::Request {
            message: message.into(),
        }
    }

    /// The message for a form field, if this error is about that field.
    pub fn field_message(&self, name: &str) -> Option<String> {
        match self {
            AppError::Validation { field, message } | AppError::Conflict { field, message }
                if field == name =>
            {
                Some(message.clone())
            }
            _ => None,
        }
    }

    /// True when the error belongs to one field (and is shown next to it).
    pub fn is_field_error(&self) -> bool {
        matches!(
            self,
            AppError::Validation { .. } | AppError::Conflict { .. }
        )
    }

    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Request { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

impl FromServerFnError for AppError {
    // JSON like every answer, decoded from text (`wire`).
    type Encoder = crate::wire::TextJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => {
                AppError::request(format!("The form was incomplete or malformed: {m}"))
            }
            ServerFnErrorErr::Request(_) => {
                AppError::request("Could not reach the server. Check your connection.")
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function plumbing failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if database_unreachable(&e) {
            tracing::warn!(error = %e, "database unreachable");
            AppError::Unavailable
        } else {
            tracing::error!(error = %e, "database error");
            AppError::Internal
        }
    }
}

/// Whether `e` says the database could not be reached or went away (a connection
/// refused or reset, no connection free in time, the server shutting down or starting
/// up), rather than that a statement failed.
#[cfg(feature = "ssr")]
fn database_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08: connection exception; 57P01-57P03: the server is shutting
        // down, crashed or not yet accepting connections; 53300: too many connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant must survive the trip to the client: a variant that fails to
    /// serialize turns into a generic failure on the wire.
    #[test]
    fn every_variant_round_trips_through_the_wire_encoding() {
        let all = [
            AppError::validation("amount", "bad"),
            AppError::Unauthorized,
            AppError::forbidden("no"),
            AppError::not_found("Expense"),
            AppError::Conflict {
                field: "email".into(),
                message: "taken".into(),
            },
            AppError::RateLimited {
                retry_after_secs: 30,
            },
            AppError::Internal,
            AppError::Unavailable,
            AppError::request("oops"),
        ];
        for e in all {
            // A new variant fails to compile here until it is listed above (and read
            // by `AppError`'s reader).
            match &e {
                AppError::Validation { .. }
                | AppError::Unauthorized
                | AppError::Forbidden { .. }
                | AppError::NotFound { .. }
                | AppError::Conflict { .. }
                | AppError::RateLimited { .. }
                | AppError::Internal
                | AppError::Unavailable
                | AppError::Request { .. } => {}
            }
            let bytes = e.ser();
            assert_eq!(AppError::de(bytes), e);
        }
    }

    /// The reader takes the keys in any order and ignores keys it does not know, as
    /// the derived reader did; a variant without a field it needs, or an unknown kind,
    /// is an error, not a default.
    #[test]
    fn the_reader_takes_any_key_order_and_refuses_what_is_incomplete() {
        let read = |text: &str| serde_json::from_str::<AppError>(text);
        assert_eq!(
            read(r#"{"message": "bad", "later": [1], "field": "amount", "kind": "validation"}"#)
                .unwrap(),
            AppError::validation("amount", "bad")
        );
        assert_eq!(
            read(r#"{"retry_after_secs": 9, "kind": "rate_limited"}"#).unwrap(),
            AppError::RateLimited {
                retry_after_secs: 9
            }
        );
        let missing = read(r#"{"kind": "validation", "message": "bad"}"#).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `field`"),
            "{missing}"
        );
        assert!(read(r#"{"kind": "teapot"}"#).is_err());
        assert!(read(r#"{"message": "no kind"}"#).is_err());
    }

    #[test]
    fn field_messages_belong_to_their_field() {
        let e = AppError::validation("amount", "Too large");
        assert_eq!(e.field_message("amount").as_deref(), Some("Too large"));
        assert_eq!(e.field_message("date"), None);
        assert!(!AppError::Internal.is_field_error());
    }
}
