//! Connecting, editing, listing and disconnecting stores.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::pagination::{Page, PageRequest};
use super::Principal;
use crate::channels::bigcommerce::{Credentials, StoreInfo};
use crate::channels::ChannelError;
use crate::db::is_unique_violation;
use crate::domain::{
    rules, ChannelKind, ConnectedVia, ContactMode, HistoricalImport, IntegrationStatus,
    PostalAddress, StockBuffer, WebhookState,
};
use crate::entities::integration::{self, token_binding};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// A change to an optional value: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Change<T> {
    /// Leave the stored value.
    #[default]
    Keep,
    /// Remove the stored value.
    Clear,
    /// Replace the stored value.
    Set(T),
}

/// The options a store is connected with (by `connectBigCommerce` or by claiming an app
/// installation).
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub alias: Option<String>,
    pub order_management: bool,
    pub inventory_management: bool,
    pub historical_import: HistoricalImport,
    pub historical_import_since: Option<NaiveDate>,
    pub ioss_number: Option<String>,
    pub return_address: Option<PostalAddress>,
    pub phone: Option<String>,
    pub phone_mode: ContactMode,
    pub email: Option<String>,
    pub email_mode: ContactMode,
}

/// The input of `connectBigCommerce`: manual credentials and the options.
#[derive(Clone, Debug)]
pub struct ConnectInput {
    pub store_hash: String,
    pub client_id: String,
    pub access_token: String,
    pub options: StoreOptions,
}

/// The edits of `updateIntegration`; absent fields keep their value.
#[derive(Clone, Debug, Default)]
pub struct UpdateInput {
    pub alias: Option<String>,
    pub client_id: Option<String>,
    pub access_token: Option<String>,
    pub order_management: Option<bool>,
    pub inventory_management: Option<bool>,
    pub historical_import: Option<HistoricalImport>,
    pub historical_import_since: Change<NaiveDate>,
    pub ioss_number: Change<String>,
    pub return_address: Change<PostalAddress>,
    pub phone: Change<String>,
    pub phone_mode: Option<ContactMode>,
    pub email: Change<String>,
    pub email_mode: Option<ContactMode>,
    pub stock_buffer: Change<StockBuffer>,
}

/// Options validated together by connect and update.
pub struct Contact {
    ioss_number: Option<String>,
    return_address: Option<PostalAddress>,
    phone: Option<String>,
    email: Option<String>,
}

fn check_optional(
    errors: &mut Vec<UserError>,
    field: &str,
    code: Code,
    value: Option<&str>,
    rule: fn(&str) -> Result<String, &'static str>,
) -> Option<String> {
    let value = value.and_then(rules::non_blank)?;
    match rule(&value) {
        Ok(v) => Some(v),
        Err(message) => {
            errors.push(UserError::new(field, code, message));
            None
        }
    }
}

fn check_text(
    errors: &mut Vec<UserError>,
    field: &str,
    value: Option<&str>,
    required: bool,
) -> Option<String> {
    match value.and_then(rules::non_blank) {
        None if required => {
            errors.push(UserError::new(
                field,
                Code::Required,
                "This field is required.",
            ));
            None
        }
        None => None,
        Some(v) if v.chars().count() > rules::MAX_TEXT => {
            errors.push(UserError::new(
                field,
                Code::TooLong,
                format!("At most {} characters.", rules::MAX_TEXT),
            ));
            None
        }
        Some(v) => Some(v),
    }
}

fn check_address(errors: &mut Vec<UserError>, a: &PostalAddress) -> PostalAddress {
    let f = |name: &str| format!("returnAddress.{name}");
    let country = rules::country_code(&a.country_code).unwrap_or_else(|m| {
        errors.push(UserError::new(
            &f("countryCode"),
            Code::InvalidCountryCode,
            m,
        ));
        String::new()
    });
    PostalAddress {
        name: check_text(errors, &f("name"), a.name.as_deref(), false),
        company: check_text(errors, &f("company"), a.company.as_deref(), false),
        street1: check_text(errors, &f("street1"), Some(&a.street1), true).unwrap_or_default(),
        street2: check_text(errors, &f("street2"), a.street2.as_deref(), false),
        city: check_text(errors, &f("city"), Some(&a.city), true).unwrap_or_default(),
        state: check_text(errors, &f("state"), a.state.as_deref(), false),
        postal_code: check_text(errors, &f("postalCode"), a.postal_code.as_deref(), false),
        country_code: country,
    }
}

fn check_since(
    errors: &mut Vec<UserError>,
    mode: HistoricalImport,
    since: Option<NaiveDate>,
) -> Option<NaiveDate> {
    if mode != HistoricalImport::SinceDate {
        return None;
    }
    match since {
        None => {
            errors.push(UserError::new(
                "historicalImportSince",
                Code::InvalidDate,
                "Give the date to import orders from when historicalImport is SINCE_DATE.",
            ));
            None
        }
        Some(d) if d > Utc::now().date_naive() => {
            errors.push(UserError::new(
                "historicalImportSince",
                Code::InvalidDate,
                "The date to import orders from cannot be in the future.",
            ));
            None
        }
        Some(d) => Some(d),
    }
}

fn store_error(e: ChannelError) -> UserError {
    match e {
        ChannelError::Unauthorized => UserError::new(
            "accessToken",
            Code::CredentialsRejected,
            "The store rejected the access token. Copy it again from the store's API account (Settings → API → Store-level API accounts).",
        ),
        ChannelError::Forbidden => UserError::new(
            "accessToken",
            Code::MissingScope,
            "The store refused the request: the API account lacks a scope orderdeck needs (at least Information & Settings: read-only, Orders: modify, Products: modify), or the store hash does not belong to this token.",
        ),
        ChannelError::NotFound => UserError::new(
            "storeHash",
            Code::StoreNotFound,
            "No BigCommerce store answers at this store hash. Check the hash in your store's API path (stores/<hash>).",
        ),
        ChannelError::Timeout => UserError::new(
            "storeHash",
            Code::StoreTimeout,
            "The store did not answer in time. Try again in a moment.",
        ),
        ChannelError::Unreachable(_) => UserError::new(
            "storeHash",
            Code::StoreUnreachable,
            "The BigCommerce API could not be reached. Check the server's network and try again.",
        ),
        ChannelError::RateLimited { retry_after } => UserError::new(
            "",
            Code::StoreRateLimited,
            match retry_after {
                Some(d) => format!("The store's API quota is spent for now; try again in {} seconds.", d.as_secs().max(1)),
                None => "The store's API quota is spent for now; try again shortly.".to_string(),
            },
        ),
        ChannelError::Server { status } => UserError::new(
            "",
            Code::StoreError,
            format!("The store answered with an error (HTTP {status}). Try again later."),
        ),
        ChannelError::Rejected { status, message } => UserError::new(
            "",
            Code::StoreError,
            format!("The store refused the request (HTTP {status}): {message}"),
        ),
        ChannelError::UnexpectedResponse(_) => UserError::new(
            "",
            Code::StoreError,
            "The store gave an answer orderdeck does not understand. Check ORDERDECK_BIGCOMMERCE_API_URL.",
        ),
    }
}

async fn check_store(state: &AppState, store_hash: &str, token: &str) -> AppResult<StoreInfo> {
    state
        .bigcommerce
        .store_info(Credentials {
            store_hash,
            access_token: token,
        })
        .await
        .map_err(|e| {
            tracing::info!(store = store_hash, error = %e, "store credential check failed");
            AppError::from(store_error(e))
        })
}

async fn alias_owner(state: &AppState, account_id: i64, alias: &str) -> AppResult<Option<i64>> {
    let found = integration::Entity::find()
        .select_only()
        .column(integration::Column::Id)
        .filter(integration::Column::AccountId.eq(account_id))
        .filter(integration::Column::Alias.eq(alias))
        .into_tuple::<i64>()
        .one(&state.db)
        .await?;
    Ok(found)
}

fn alias_taken(alias: &str) -> UserError {
    UserError::new(
        "alias",
        Code::AliasTaken,
        format!("Another store of this account is already called {alias:?}; choose another alias."),
    )
}

fn last4(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

fn unique_conflict(e: &sea_orm::DbErr, alias: &str) -> Option<AppError> {
    if !is_unique_violation(e) {
        return None;
    }
    let text = e.to_string();
    Some(if text.contains("alias") {
        alias_taken(alias).into()
    } else {
        UserError::new(
            "storeHash",
            Code::StoreAlreadyConnected,
            "This store is already connected.",
        )
        .into()
    })
}

/// Validates the options and the credentials against the store, then saves the store.
/// Connecting a store that was disconnected reconnects it, keeping its history.
pub async fn connect(
    state: &AppState,
    p: &Principal,
    input: ConnectInput,
) -> AppResult<integration::Model> {
    let mut errors = Vec::new();
    let store_hash = rules::store_hash(&input.store_hash).unwrap_or_else(|m| {
        errors.push(UserError::new("storeHash", Code::InvalidStoreHash, m));
        String::new()
    });
    let client_id = check_text(&mut errors, "clientId", Some(&input.client_id), true);
    let token = rules::non_blank(&input.access_token);
    if token.is_none() {
        errors.push(UserError::new(
            "accessToken",
            Code::Required,
            "Enter the store's access token.",
        ));
    }
    let options = check_options(&mut errors, &input.options);
    ensure_valid(errors)?;
    let connection = Connection {
        store_hash,
        client_id: client_id.unwrap_or_default(),
        token: token.unwrap_or_default(),
        via: ConnectedVia::Manual,
    };
    let prepared = prepare(state, p.account_id, connection, options).await?;
    let saved = prepared.save(&state.db).await?;
    after_connect(state, saved).await
}

/// Options that passed validation.
pub struct CheckedOptions {
    alias: Option<String>,
    inventory_management: bool,
    historical_import: HistoricalImport,
    since: Option<NaiveDate>,
    contact: Contact,
    phone_mode: ContactMode,
    email_mode: ContactMode,
}

/// Validates the options of a new connection, adding what is wrong to `errors`.
pub fn check_options(errors: &mut Vec<UserError>, o: &StoreOptions) -> CheckedOptions {
    let alias = check_text(errors, "alias", o.alias.as_deref(), false);
    if !o.order_management {
        errors.push(UserError::new(
            "orderManagement",
            Code::OrderManagementRequired,
            "Order management must be on to connect a store: it is what imports its orders.",
        ));
    }
    let since = check_since(errors, o.historical_import, o.historical_import_since);
    let contact = check_contact(
        errors,
        o.ioss_number.as_deref(),
        o.return_address.as_ref(),
        o.phone.as_deref(),
        o.email.as_deref(),
    );
    CheckedOptions {
        alias,
        inventory_management: o.inventory_management,
        historical_import: o.historical_import,
        since,
        contact,
        phone_mode: o.phone_mode,
        email_mode: o.email_mode,
    }
}

/// Credentials of a connection being made.
pub struct Connection {
    pub store_hash: String,
    pub client_id: String,
    pub token: String,
    pub via: ConnectedVia,
}

/// A connection checked against the store and ready to save.
#[derive(Clone)]
pub struct Prepared {
    row: integration::ActiveModel,
    is_update: bool,
    alias: String,
}

impl Prepared {
    /// Saves the integration (in `db`, which may be a transaction).
    pub async fn save<C: sea_orm::ConnectionTrait>(self, db: &C) -> AppResult<integration::Model> {
        let saved = if self.is_update {
            self.row.update(db).await
        } else {
            self.row.insert(db).await
        };
        saved.map_err(|e| unique_conflict(&e, &self.alias).unwrap_or_else(|| e.into()))
    }
}

/// Checks a connection of `account_id` (no store of the account connected twice, a free
/// alias, credentials the store accepts) and builds the row; nothing is written. A store that
/// was disconnected is reconnected with its history. An app installation (`via: App`) may
/// also take over a store connected with manual credentials: the merchant installed the app
/// on it.
pub async fn prepare(
    state: &AppState,
    account_id: i64,
    c: Connection,
    o: CheckedOptions,
) -> AppResult<Prepared> {
    let existing = integration::Entity::find()
        .filter(integration::Column::AccountId.eq(account_id))
        .filter(integration::Column::Channel.eq(ChannelKind::BigCommerce))
        .filter(integration::Column::StoreHash.eq(&c.store_hash))
        .one(&state.db)
        .await?;
    if c.via == ConnectedVia::Manual
        && existing
            .as_ref()
            .is_some_and(|e| e.status != IntegrationStatus::Disconnected)
    {
        return Err(UserError::new(
            "storeHash",
            Code::StoreAlreadyConnected,
            "This store is already connected to your account.",
        )
        .into());
    }
    let existing_id = existing.as_ref().map(|e| e.id);
    // Claiming keeps the alias of the store being reconnected unless a new one is given.
    let alias = o.alias.clone().or_else(|| {
        existing
            .as_ref()
            .filter(|_| c.via == ConnectedVia::App)
            .map(|e| e.alias.clone())
    });
    if let Some(a) = &alias {
        if alias_owner(state, account_id, a)
            .await?
            .is_some_and(|id| Some(id) != existing_id)
        {
            return Err(alias_taken(a).into());
        }
    }

    let info = check_store(state, &c.store_hash, &c.token).await?;
    let alias = match alias {
        Some(a) => a,
        None => {
            let name: String = info.name.trim().chars().take(rules::MAX_TEXT).collect();
            let name = if name.is_empty() {
                c.store_hash.clone()
            } else {
                name
            };
            if alias_owner(state, account_id, &name)
                .await?
                .is_some_and(|id| Some(id) != existing_id)
            {
                return Err(alias_taken(&name).into());
            }
            name
        }
    };

    let now = Utc::now();
    let ciphertext = state
        .cipher
        .encrypt(&c.token, &token_binding(account_id, &c.store_hash))?;
    let reconnecting = existing
        .as_ref()
        .is_some_and(|e| e.status == IntegrationStatus::Disconnected);
    let mut row = match existing {
        Some(e) => e.into_active_model(),
        None => integration::ActiveModel {
            account_id: Set(account_id),
            channel: Set(ChannelKind::BigCommerce),
            store_hash: Set(c.store_hash.clone()),
            created_at: Set(now),
            connected_at: Set(now),
            webhook_state: Set(WebhookState::Off),
            ..Default::default()
        },
    };
    row.status = Set(IntegrationStatus::Active);
    row.connected_via = Set(c.via);
    row.client_id = Set(c.client_id);
    row.access_token_ciphertext = Set(Some(ciphertext));
    row.access_token_last4 = Set(Some(last4(&c.token)));
    row.alias = Set(alias.clone());
    row.store_name = Set(info.name);
    row.store_currency = Set(info.currency);
    row.order_management = Set(true);
    row.inventory_management = Set(o.inventory_management);
    row.historical_import = Set(o.historical_import);
    row.historical_import_since = Set(o.since);
    // A store taken over (already active) keeps the moment it was connected: its stock
    // rules depend on it.
    let connected_at = match (&row.connected_at, reconnecting || existing_id.is_none()) {
        (sea_orm::ActiveValue::Unchanged(t), false) => *t,
        _ => now,
    };
    row.connected_at = Set(connected_at);
    row.import_orders_since = Set(o
        .historical_import
        .reach_back(connected_at, o.since)
        .unwrap_or(connected_at));
    row.ioss_number = Set(o.contact.ioss_number);
    row.return_address = Set(o.contact.return_address);
    row.phone = Set(o.contact.phone);
    row.phone_mode = Set(o.phone_mode);
    row.email = Set(o.contact.email);
    row.email_mode = Set(o.email_mode);
    row.disconnected_at = Set(None);
    row.updated_at = Set(now);
    Ok(Prepared {
        row,
        is_update: existing_id.is_some(),
        alias,
    })
}

/// What follows a saved connection: its sync jobs (due now) and its order webhooks.
pub async fn after_connect(
    state: &AppState,
    saved: integration::Model,
) -> AppResult<integration::Model> {
    tracing::info!(integration_id = saved.id, account_id = saved.account_id, store = %saved.store_hash, via = ?saved.connected_via, "store connected");
    schedule_import_now(state, &saved).await;
    Ok(crate::services::webhooks::register(state, saved).await)
}

fn check_contact(
    errors: &mut Vec<UserError>,
    ioss: Option<&str>,
    address: Option<&PostalAddress>,
    phone: Option<&str>,
    email: Option<&str>,
) -> Contact {
    Contact {
        ioss_number: check_optional(
            errors,
            "iossNumber",
            Code::InvalidIossNumber,
            ioss,
            rules::ioss_number,
        ),
        return_address: address.map(|a| check_address(errors, a)),
        phone: check_optional(errors, "phone", Code::InvalidPhone, phone, rules::phone),
        email: check_optional(errors, "email", Code::InvalidEmail, email, rules::email),
    }
}

/// Looks up one integration of the caller's account.
pub async fn get(
    state: &AppState,
    p: &Principal,
    id: i64,
) -> AppResult<Option<integration::Model>> {
    Ok(integration::Entity::find_by_id(id)
        .filter(integration::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?)
}

/// Like [`get`], but a missing integration is a `NOT_FOUND` user error on `field`.
pub async fn require(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    field: &str,
) -> AppResult<integration::Model> {
    let found = match id {
        Some(id) => get(state, p, id).await?,
        None => None,
    };
    found.ok_or_else(|| {
        UserError::new(
            field,
            Code::NotFound,
            "No such integration in your account.",
        )
        .into()
    })
}

/// Applies the edits after validating all of them; new credentials are checked against the
/// store first and bring a disconnected or rejected integration back to `ACTIVE`.
pub async fn update(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    input: UpdateInput,
) -> AppResult<integration::Model> {
    let current = require(state, p, id, "id").await?;
    let checked = check_update(&current, &input)?;
    if let Some(a) = &checked.alias {
        ensure_alias_free(state, p, &current, a).await?;
    }
    let now = Utc::now();
    let final_alias = checked
        .alias
        .clone()
        .unwrap_or_else(|| current.alias.clone());
    let mut row = current.clone().into_active_model();
    if let Some(token) = &checked.token {
        apply_new_token(state, &current, &mut row, token, now).await?;
    }
    row.alias = Set(final_alias.clone());
    let token_given = checked.token.is_some();
    apply_edits(&mut row, &current, input, checked, now);
    let saved = row
        .update(&state.db)
        .await
        .map_err(|e| unique_conflict(&e, &final_alias).unwrap_or_else(|| e.into()))?;
    tracing::info!(integration_id = saved.id, "integration updated");
    Ok(after_update(state, &current, saved, token_given).await)
}

/// The edits of an update once validated: what `update` writes.
struct CheckedUpdate {
    alias: Option<String>,
    client_id: Option<String>,
    token: Option<String>,
    mode: HistoricalImport,
    since: Option<NaiveDate>,
    contact: Contact,
}

/// Validates every edit of an update against the current integration, collecting all user
/// errors in field order before answering with them.
fn check_update(current: &integration::Model, input: &UpdateInput) -> AppResult<CheckedUpdate> {
    let mut errors = Vec::new();
    let alias = match &input.alias {
        Some(a) => check_text(&mut errors, "alias", Some(a), true),
        None => None,
    };
    let client_id = match &input.client_id {
        Some(c) => check_text(&mut errors, "clientId", Some(c), true),
        None => None,
    };
    let token = match &input.access_token {
        Some(t) => {
            let t = rules::non_blank(t);
            if t.is_none() {
                errors.push(UserError::new(
                    "accessToken",
                    Code::Required,
                    "Enter the store's access token.",
                ));
            }
            t
        }
        None => None,
    };
    let mode = input.historical_import.unwrap_or(current.historical_import);
    let since_given = match &input.historical_import_since {
        Change::Keep => current.historical_import_since,
        Change::Clear => None,
        Change::Set(d) => Some(*d),
    };
    let since = check_since(&mut errors, mode, since_given);
    let pick = |c: &Change<String>, now: &Option<String>| match c {
        Change::Keep => now.clone(),
        Change::Clear => None,
        Change::Set(v) => Some(v.clone()),
    };
    let ioss = pick(&input.ioss_number, &current.ioss_number);
    let phone = pick(&input.phone, &current.phone);
    let email = pick(&input.email, &current.email);
    let address = match &input.return_address {
        Change::Keep => current.return_address.clone(),
        Change::Clear => None,
        Change::Set(a) => Some(a.clone()),
    };
    let contact = check_contact(
        &mut errors,
        ioss.as_deref(),
        address.as_ref(),
        phone.as_deref(),
        email.as_deref(),
    );
    if let Change::Set(b) = &input.stock_buffer {
        if let Some(problem) = b.problem() {
            errors.push(UserError::new("stockBuffer.value", Code::Invalid, problem));
        }
    }
    ensure_valid(errors)?;
    Ok(CheckedUpdate {
        alias,
        client_id,
        token,
        mode,
        since,
        contact,
    })
}

/// Answers `ALIAS_TAKEN` when another integration of the account already uses the new alias.
async fn ensure_alias_free(
    state: &AppState,
    p: &Principal,
    current: &integration::Model,
    alias: &str,
) -> AppResult<()> {
    if alias_owner(state, p.account_id, alias)
        .await?
        .is_some_and(|owner| owner != current.id)
    {
        return Err(alias_taken(alias).into());
    }
    Ok(())
}

/// Checks a new access token against the store and puts it, with the store's name and
/// currency, on the row; a disconnected or rejected integration becomes `ACTIVE` again.
async fn apply_new_token(
    state: &AppState,
    current: &integration::Model,
    row: &mut integration::ActiveModel,
    token: &str,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    let info = check_store(state, &current.store_hash, token).await?;
    row.access_token_ciphertext = Set(Some(state.cipher.encrypt(token, &current.token_binding())?));
    row.access_token_last4 = Set(Some(last4(token)));
    row.store_name = Set(info.name);
    row.store_currency = Set(info.currency);
    if current.status != IntegrationStatus::Active {
        row.status = Set(IntegrationStatus::Active);
        row.disconnected_at = Set(None);
        if current.status == IntegrationStatus::Disconnected {
            row.connected_at = Set(now);
        }
    }
    Ok(())
}

/// Puts the validated settings, the import reach and the contact options on the row, and
/// stamps it as updated.
fn apply_edits(
    row: &mut integration::ActiveModel,
    current: &integration::Model,
    input: UpdateInput,
    checked: CheckedUpdate,
    now: chrono::DateTime<Utc>,
) {
    let CheckedUpdate {
        client_id,
        mode,
        since,
        contact,
        ..
    } = checked;
    if let Some(c) = client_id {
        row.client_id = Set(c);
    }
    if let Some(v) = input.order_management {
        row.order_management = Set(v);
    }
    if let Some(v) = input.inventory_management {
        row.inventory_management = Set(v);
    }
    row.historical_import = Set(mode);
    row.historical_import_since = Set(since);
    row.import_orders_since = Set(mode
        .reach_back(current.connected_at, since)
        .unwrap_or(current.connected_at));
    row.ioss_number = Set(contact.ioss_number);
    row.return_address = Set(contact.return_address);
    row.phone = Set(contact.phone);
    row.email = Set(contact.email);
    if let Some(m) = input.phone_mode {
        row.phone_mode = Set(m);
    }
    if let Some(m) = input.email_mode {
        row.email_mode = Set(m);
    }
    match input.stock_buffer {
        Change::Keep => {}
        Change::Clear => row.stock_buffer = Set(None),
        Change::Set(b) => row.stock_buffer = Set(Some(b)),
    }
    row.updated_at = Set(now);
}

/// What follows a saved update: an integration back to `ACTIVE` imports now, inventory
/// management just turned on or a new buffer pushes every listing, and a new token registers the webhooks
/// again.
async fn after_update(
    state: &AppState,
    current: &integration::Model,
    saved: integration::Model,
    token_given: bool,
) -> integration::Model {
    if current.status != IntegrationStatus::Active && saved.status == IntegrationStatus::Active {
        schedule_import_now(state, &saved).await;
    }
    // Inventory management just turned on, or the buffer changed: every listing gets the
    // figure it is offered now.
    if saved.inventory_management
        && (!current.inventory_management || current.stock_buffer != saved.stock_buffer)
    {
        push_every_listing(state, &saved).await;
    }
    // A new token may belong to another API account, which does not see the hooks of the
    // old one: register them again.
    if token_given {
        return crate::services::webhooks::register(state, saved).await;
    }
    saved
}

/// Inventory management just turned on: every listing of the store gets the figure here. The
/// setting is saved already, so a failure is logged (the next product import queues the
/// listings whose figure differs anyway).
async fn push_every_listing(state: &AppState, saved: &integration::Model) {
    use sea_orm::QuerySelect;
    let ids: Result<Vec<i64>, _> = crate::entities::listing::Entity::find()
        .select_only()
        .column(crate::entities::listing::Column::Id)
        .filter(crate::entities::listing::Column::IntegrationId.eq(saved.id))
        .into_tuple()
        .all(&state.db)
        .await;
    let queued = match ids {
        Ok(ids) => {
            crate::services::push::enqueue_listings(
                &state.db,
                saved.account_id,
                crate::domain::PushKind::Stock,
                &ids,
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    match queued {
        Ok(n) => {
            tracing::info!(
                integration_id = saved.id,
                queued = n,
                "inventory management on: pushing every listing"
            );
            state.pushes_queued();
        }
        Err(e) => {
            tracing::error!(integration_id = saved.id, error = ?e, "queueing the store's listings failed")
        }
    }
}

/// Gives a (re)connected store its sync jobs, due now. The store is saved already, so a
/// failure here is logged rather than failing the mutation: the scheduler creates missing
/// jobs on its next tick.
async fn schedule_import_now(state: &AppState, saved: &integration::Model) {
    if let Err(e) = super::schedule::ensure_jobs_due_now(&state.db, saved).await {
        tracing::error!(integration_id = saved.id, error = ?e, "creating the store's sync jobs failed; the scheduler will retry");
    }
}

/// Stops all sync for a store and erases its access token; the history stays. Disconnecting
/// twice changes nothing.
pub async fn disconnect(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
) -> AppResult<integration::Model> {
    let current = require(state, p, id, "id").await?;
    if current.status == IntegrationStatus::Disconnected {
        return Ok(current);
    }
    // The hooks are removed while the token still works (best effort: a store that cannot
    // be reached keeps them until they fail, and deliveries to a disconnected store are
    // refused).
    crate::services::webhooks::unregister(state, &current).await;
    mark_disconnected(&state.db, current).await
}

/// Saves a store as disconnected: no token, no webhooks, history kept.
pub async fn mark_disconnected<C: sea_orm::ConnectionTrait>(
    db: &C,
    current: integration::Model,
) -> AppResult<integration::Model> {
    let now = Utc::now();
    let mut row = current.into_active_model();
    row.status = Set(IntegrationStatus::Disconnected);
    row.access_token_ciphertext = Set(None);
    row.access_token_last4 = Set(None);
    row.disconnected_at = Set(Some(now));
    row.webhook_state = Set(WebhookState::Off);
    row.webhook_secret_hash = Set(None);
    row.webhook_destination = Set(None);
    row.webhook_error = Set(None);
    row.updated_at = Set(now);
    let saved = row.update(db).await?;
    tracing::info!(integration_id = saved.id, "store disconnected");
    Ok(saved)
}

/// The caller's integrations, optionally of one status, by id.
pub async fn list(
    state: &AppState,
    p: &Principal,
    status: Option<IntegrationStatus>,
    page: PageRequest,
) -> AppResult<Page<integration::Model>> {
    let mut query =
        integration::Entity::find().filter(integration::Column::AccountId.eq(p.account_id));
    if let Some(s) = status {
        query = query.filter(integration::Column::Status.eq(s));
    }
    let total = query.clone().count(&state.db).await?;
    if let Some(after) = page.after {
        query = query.filter(integration::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(integration::Column::Id)
        .limit(page.first + 1)
        .all(&state.db)
        .await?;
    Ok(Page::from_overfetch(rows, page.first, total))
}
