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
    /// The caller's role may not do this (see the roles in the README); nothing changed.
    Forbidden,
    /// New accounts cannot be created here now (`ORDERDECK_REGISTRATION`); an invitation code
    /// may still join an existing account.
    RegistrationClosed,
    /// The invitation code is unknown, used, revoked, expired, or for another email.
    InvalidInvitation,
    /// The change would leave the account without an owner.
    LastOwner,
    /// Too many password checks are under way or waiting on this server, or too many wrong
    /// passwords were tried for this email: try again after the time the message gives.
    TooManyAttempts,
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
    /// A bundle's stock is computed from its components; change theirs instead.
    BundleStockIsComputed,
    /// A bundle would contain itself.
    BundleContainsItself,
    /// Bundles do not nest: a bundle cannot be a component, and a component of a bundle cannot
    /// become a bundle.
    BundleNested,
    /// The product is not a bundle.
    NotABundle,
    /// The same SKU appears more than once (in a bundle's components or a stock count file).
    DuplicateSku,
    /// No product of the account has this SKU.
    UnknownSku,
    /// A quantity is not a whole number in the accepted range.
    InvalidQuantity,
    /// The file is not the expected CSV (no header, wrong columns, not UTF-8, too many rows).
    InvalidFile,
    /// Orders of different stores cannot be merged.
    DifferentStore,
    /// The orders do not ship to the same address (compared without case and punctuation).
    DifferentAddress,
    /// The order is already part of a merge.
    AlreadyMerged,
    /// Something of the order (or of a merge) has shipped already.
    AlreadyShipped,
    /// The product is a component of bundles: change or delete those first.
    ProductInBundles,
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
///
/// It has no `Display` on purpose: the one way it reaches a client is the `From` mapping to
/// a GraphQL error below (or [`crate::http::error::HttpError`] for downloads), which hides
/// internal causes. For logs and server-side texts use [`AppError::report`].
#[derive(Debug)]
pub enum AppError {
    /// Expected failures, reported in the payload.
    User(Vec<UserError>),
    /// No valid bearer token.
    Unauthenticated,
    /// The caller's role does not have the permission the field or route needs.
    Forbidden {
        /// The caller's role.
        role: crate::domain::Role,
        /// What was needed.
        needed: crate::domain::Permission,
    },
    /// A database statement failed. Kept typed so a caller can tell a unique violation or a
    /// conflict with a concurrent transaction ([`AppError::is_transient`]) from other failures.
    Db {
        /// What was being done (for the log), empty when unknown.
        during: String,
        /// The database's error.
        source: sea_orm::DbErr,
    },
    /// A bug or an infrastructure failure other than the database.
    Internal(anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(source: sea_orm::DbErr) -> Self {
        AppError::Db {
            during: String::new(),
            source,
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
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

/// A database result with what was being done: `.during("loading orders")?` gives an
/// [`AppError::Db`] that says so in the log.
pub trait DbContext<T> {
    /// Maps the database error, keeping it typed.
    fn during(self, what: &'static str) -> AppResult<T>;
}

impl<T> DbContext<T> for Result<T, sea_orm::DbErr> {
    fn during(self, what: &'static str) -> AppResult<T> {
        self.map_err(|source| AppError::Db {
            during: what.to_string(),
            source,
        })
    }
}

/// Fails with all collected user errors, if any.
pub fn ensure_valid(errors: Vec<UserError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::User(errors))
    }
}

/// The `extensions.code` values of top-level GraphQL errors (also listed in the README).
pub mod codes {
    /// No valid bearer token.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller's role may not read this field; it is null.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Input refused outside a mutation payload (`extensions.reason` holds the user error code).
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// A bug or an infrastructure failure; the message carries a reference to the log entry.
    pub const INTERNAL: &str = "INTERNAL";
    /// A subscription fell too far behind its events and was ended (its connection closes).
    pub const SUBSCRIBER_TOO_SLOW: &str = "SUBSCRIBER_TOO_SLOW";
}

impl AppError {
    /// A broken invariant or an unexpected failure, described for the log.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{what}"))
    }

    /// Adds what was being done to an internal or database error; user errors stay as they are.
    pub fn context(self, what: impl std::fmt::Display) -> Self {
        match self {
            AppError::Internal(inner) => AppError::Internal(inner.context(what.to_string())),
            AppError::Db { during, source } => AppError::Db {
                during: if during.is_empty() {
                    what.to_string()
                } else {
                    format!("{what}: {during}")
                },
                source,
            },
            other => other,
        }
    }

    /// The database's error, when a statement failed.
    pub fn db_error(&self) -> Option<&sea_orm::DbErr> {
        match self {
            AppError::Db { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether a statement failed on a unique constraint (a concurrent insert of the same row).
    pub fn is_unique_violation(&self) -> bool {
        self.db_error().is_some_and(crate::db::is_unique_violation)
    }

    /// Whether only a concurrent transaction made it fail, so running it again is the answer.
    pub fn is_transient(&self) -> bool {
        self.db_error().is_some_and(crate::db::is_transient)
    }

    /// What went wrong, for the log and server-side texts (never sent to a GraphQL client).
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

/// [`AppError::report`]: the error's description, with an internal error's cause chain.
pub struct Report<'a>(&'a AppError);

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            AppError::User(errors) => {
                let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
                write!(f, "{}", messages.join("; "))
            }
            AppError::Unauthenticated => write!(f, "authentication required"),
            AppError::Forbidden { role, needed } => write!(f, "role {role:?} lacks {needed:?}"),
            AppError::Db { during, source } if during.is_empty() => write!(f, "{source}"),
            AppError::Db { during, source } => write!(f, "{during}: {source}"),
            AppError::Internal(cause) => write!(f, "{cause:#}"),
        }
    }
}

/// A short random reference that ties an error shown to a client to its log entry.
pub fn log_reference() -> String {
    crate::crypto::generate_token()
        .chars()
        .skip(4)
        .take(12)
        .collect()
}

/// The one mapping of an [`AppError`] to a top-level GraphQL error: `UNAUTHENTICATED`,
/// `BAD_USER_INPUT` (with `reason`, the [`UserErrorCode`] as the schema spells it) or `INTERNAL`
/// (whose cause is logged with a reference and hidden from the client). A resolver's `?` on an
/// [`AppResult`] goes through it.
impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => async_graphql::Error::new(
                "Authentication required: send `Authorization: Bearer <token>` from `login`.",
            )
            .extend_with(|_, ext| ext.set("code", codes::UNAUTHENTICATED)),
            forbidden @ AppError::Forbidden { .. } => {
                let message = forbidden_error(&forbidden).message;
                async_graphql::Error::new(message)
                    .extend_with(|_, ext| ext.set("code", codes::FORBIDDEN))
            }
            AppError::User(errors) => {
                let message = errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let reason = errors
                    .first()
                    .map(|e| async_graphql::InputType::to_value(&e.code));
                async_graphql::Error::new(message).extend_with(move |_, ext| {
                    ext.set("code", codes::BAD_USER_INPUT);
                    if let Some(reason) = &reason {
                        ext.set("reason", reason.clone());
                    }
                })
            }
            internal => {
                let reference = log_reference();
                tracing::error!(error = %internal.report(), reference = %reference, "internal error");
                async_graphql::Error::new(format!(
                    "Internal error (reference {reference}); it has been logged."
                ))
                .extend_with(|_, ext| ext.set("code", codes::INTERNAL))
            }
        }
    }
}

/// For the command line and background tasks, where the operator reads the cause.
impl From<AppError> for anyhow::Error {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(cause) => cause,
            AppError::Db { during, source } if during.is_empty() => anyhow::Error::new(source),
            AppError::Db { during, source } => anyhow::Error::new(source).context(during),
            other => anyhow::anyhow!("{}", other.report()),
        }
    }
}

/// Splits a service result into what a mutation payload carries: the value, or the user
/// errors; other errors become top-level GraphQL errors.
pub fn into_payload<T>(result: AppResult<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match result {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(AppError::User(errors)) => Ok((None, errors)),
        Err(forbidden @ AppError::Forbidden { .. }) => {
            Ok((None, vec![forbidden_error(&forbidden)]))
        }
        Err(other) => Err(other.into()),
    }
}

/// The `FORBIDDEN` user error a mutation answers when the caller's role may not make it.
fn forbidden_error(e: &AppError) -> UserError {
    let role = match e {
        AppError::Forbidden { role, .. } => async_graphql::InputType::to_value(role).to_string(),
        _ => String::new(),
    };
    UserError::new(
        "",
        UserErrorCode::Forbidden,
        format!("The role {role} may not do this; ask an owner or an admin of the account."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(e: &async_graphql::Error, key: &str) -> Option<async_graphql::Value> {
        e.extensions.as_ref().and_then(|x| x.get(key)).cloned()
    }

    #[test]
    fn a_user_error_outside_a_payload_gives_its_code_as_the_schema_spells_it() {
        let e: async_graphql::Error =
            AppError::from(UserError::new("sku", UserErrorCode::TooLong, "too long")).into();
        assert_eq!(
            extension(&e, "code"),
            Some(async_graphql::Value::from(codes::BAD_USER_INPUT))
        );
        assert_eq!(
            extension(&e, "reason").map(|v| v.to_string()),
            Some("TOO_LONG".to_string())
        );
        assert_eq!(e.message, "too long");
    }

    #[test]
    fn an_internal_error_reaches_the_client_as_a_reference_only() {
        let cause = "password=hunter2 in a connection string";
        let e: async_graphql::Error = AppError::internal(cause).into();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(e.message.starts_with("Internal error (reference "));
        let db: async_graphql::Error = AppError::from(sea_orm::DbErr::Custom(cause.into())).into();
        assert!(!db.message.contains("hunter2"), "{}", db.message);
        assert_eq!(
            extension(&db, "code"),
            Some(async_graphql::Value::from(codes::INTERNAL))
        );
    }

    #[test]
    fn context_is_added_to_internal_and_database_errors_and_kept_typed() {
        let e = AppError::from(sea_orm::DbErr::Custom("boom".into()))
            .context("inserting orders")
            .context("importing a page");
        assert!(e.db_error().is_some());
        assert_eq!(
            e.report().to_string(),
            "importing a page: inserting orders: Custom Error: boom"
        );
        let user = AppError::from(UserError::new("", UserErrorCode::NotFound, "gone")).context("x");
        assert_eq!(user.report().to_string(), "gone");
    }
}
