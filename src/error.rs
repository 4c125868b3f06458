//! The application error and its single mapping to GraphQL.
//!
//! Policy: expected failures (validation, not found, conflict, a store refusing) are
//! [`UserError`]s with stable [`UserErrorCode`]s, returned in mutation payloads. The top-level
//! GraphQL `errors` array carries only authentication failures and bugs; a bug's cause goes to
//! the log with a reference id, never to the client.

use async_graphql::{ErrorExtensions, SimpleObject};

/// Stable machine-readable codes of expected failures. Clients switch on these, never on
/// the message wording.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// A required value is missing or blank.
    Required,
    /// A value is longer than allowed.
    TooLong,
    /// A value is not one of the accepted forms (the message says which).
    Invalid,
    /// The text holds control characters (NUL, escape, …); only line breaks and tabs are
    /// accepted, and only in multi-line fields.
    ControlCharacters,
    /// The email address is not valid.
    InvalidEmail,
    /// The password is shorter than the minimum length.
    PasswordTooShort,
    /// The password is longer than the maximum length.
    PasswordTooLong,
    /// The password is too easy to guess (a common password, or one repeated character).
    PasswordTooCommon,
    /// An account already uses this email address.
    EmailTaken,
    /// The email and password do not match an account (deliberately vague).
    InvalidCredentials,
    /// The object does not exist or belongs to another account.
    NotFound,
    /// The BigCommerce store hash is malformed (expected e.g. `abc123`).
    InvalidStoreHash,
    /// The store rejected the access token (HTTP 401).
    CredentialsRejected,
    /// The token is valid but lacks an OAuth scope orderdeck needs (HTTP 403).
    MissingScope,
    /// No store answers at this store hash (HTTP 404).
    StoreNotFound,
    /// The store could not be reached (connection refused, DNS, TLS).
    StoreUnreachable,
    /// The store did not answer in time.
    StoreTimeout,
    /// The store's API quota is spent for now (HTTP 429); try again shortly.
    StoreRateLimited,
    /// The store answered with a server error or an unexpected response.
    StoreError,
    /// Another integration of this account already uses this alias.
    AliasTaken,
    /// This store is already connected to this account.
    StoreAlreadyConnected,
    /// Order management must be on to connect a store.
    OrderManagementRequired,
    /// The IOSS number is not `IM` followed by 10 digits.
    InvalidIossNumber,
    /// The phone number is not valid.
    InvalidPhone,
    /// The country code is not an ISO 3166-1 alpha-2 code.
    InvalidCountryCode,
    /// The date is missing, malformed or in the future.
    InvalidDate,
    /// The uploaded file is larger than allowed.
    FileTooLarge,
    /// The uploaded image is wider or taller than allowed.
    ImageDimensionsTooLarge,
    /// The uploaded file is not a PNG or JPEG image.
    UnsupportedImageType,
    /// The uploaded image is corrupt or cannot be decoded.
    InvalidImage,
    /// The integration is disconnected; reconnect it first.
    IntegrationDisconnected,
    /// A sync of this kind is running right now for this store (here or in another process).
    SyncInProgress,
    /// The figure changed since the caller read it (`expectedQuantity` did not match).
    Conflict,
    /// The change would take stock below zero (pass `allowNegative` to allow it).
    InsufficientStock,
    /// The idempotency key was already used for a different change.
    IdempotencyKeyReused,
    /// Give either a product id or a SKU, not both and not neither.
    AmbiguousProduct,
    /// The order cannot be canceled in its status (e.g. refunded).
    OrderNotCancelable,
    /// A price must be a positive amount.
    PriceNotPositive,
    /// The amount has more decimals than the store's currency.
    TooManyDecimals,
    /// The sale price is above the price.
    SalePriceAbovePrice,
    /// The store refused the change (its message is in the error); nothing is retried.
    StoreRejected,
    /// The listing is missing from its store (deleted there).
    ListingMissing,
    /// The order is canceled: it cannot ship.
    OrderCanceled,
    /// The order cannot ship in its status (refunded, or not paid yet).
    OrderNotShippable,
    /// Everything in the order has shipped already.
    NothingToShip,
    /// The line is not part of the order.
    UnknownLine,
    /// The line has no shipping address (a digital item).
    LineNotShippable,
    /// More than remains unshipped of the line.
    QuantityExceedsUnshipped,
    /// The tracking number is longer than the store (or the label's barcode) accepts.
    TrackingNumberTooLong,
    /// The shipment is not in a state this action applies to.
    ShipmentNotRetryable,
    /// No pending app installation has this claim code (unknown, already claimed, or expired).
    InstallationNotFound,
}

/// An expected failure of a mutation, tied to the input field that caused it.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// Path to the input field at fault, relative to the mutation's `input`
    /// (e.g. `["returnAddress", "countryCode"]`); empty when no single field is at fault.
    pub field: Vec<String>,
    /// Stable code to switch on.
    pub code: UserErrorCode,
    /// Plain-language explanation for people.
    pub message: String,
}

impl UserError {
    /// A user error on the field at `path` (dot-separated, e.g. `returnAddress.countryCode`).
    pub fn new(path: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: if path.is_empty() {
                Vec::new()
            } else {
                path.split('.').map(str::to_string).collect()
            },
            code,
            message: message.into(),
        }
    }
}

/// The error of every service function.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Expected failures, reported in the payload.
    #[error("invalid input: {0:?}")]
    User(Vec<UserError>),
    /// No valid bearer token.
    #[error("authentication required")]
    Unauthenticated,
    /// A bug or an infrastructure failure.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<UserError> for AppError {
    fn from(e: UserError) -> Self {
        AppError::User(vec![e])
    }
}

impl From<Vec<UserError>> for AppError {
    fn from(e: Vec<UserError>) -> Self {
        AppError::User(e)
    }
}

/// Result of a service function.
pub type AppResult<T> = Result<T, AppError>;

/// Fails with all collected user errors, if any.
pub fn ensure_valid(errors: Vec<UserError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::User(errors))
    }
}

impl AppError {
    /// Maps to a top-level GraphQL error: `UNAUTHENTICATED`, `BAD_USER_INPUT` or `INTERNAL`
    /// (whose cause is logged with a reference and hidden from the client).
    pub fn into_graphql(self) -> async_graphql::Error {
        match self {
            AppError::Unauthenticated => async_graphql::Error::new(
                "Authentication required: send `Authorization: Bearer <token>` from `login`.",
            )
            .extend_with(|_, e| e.set("code", "UNAUTHENTICATED")),
            AppError::User(errors) => {
                let message = errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                let code = errors
                    .first()
                    .map(|e| format!("{:?}", e.code))
                    .unwrap_or_default();
                async_graphql::Error::new(message).extend_with(move |_, e| {
                    e.set("code", "BAD_USER_INPUT");
                    e.set("reason", code.clone());
                })
            }
            AppError::Internal(cause) => {
                let reference = crate::crypto::generate_token()
                    .chars()
                    .skip(4)
                    .take(12)
                    .collect::<String>();
                tracing::error!(error = ?cause, reference = %reference, "internal error");
                async_graphql::Error::new(format!(
                    "Internal error (reference {reference}); it has been logged."
                ))
                .extend_with(|_, e| e.set("code", "INTERNAL"))
            }
        }
    }
}

/// Splits a service result into what a mutation payload carries: the value, or the user
/// errors; other errors become top-level GraphQL errors.
pub fn into_payload<T>(result: AppResult<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(AppError::User(errors)) => Ok((None, errors)),
        Err(other) => Err(other.into_graphql()),
    }
}
