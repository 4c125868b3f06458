//! Connecting, editing, listing and disconnecting stores.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::pagination::{Page, PageRequest};
use super::{is_unique_violation, Principal};
use crate::channels::bigcommerce::{Credentials, StoreInfo};
use crate::channels::ChannelError;
use crate::domain::{
    rules, ChannelKind, ContactMode, HistoricalImport, IntegrationStatus, PostalAddress,
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

/// The options of `connectBigCommerce`.
#[derive(Clone, Debug)]
pub struct ConnectInput {
    pub store_hash: String,
    pub client_id: String,
    pub access_token: String,
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
}

/// Options validated together by connect and update.
struct Contact {
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
    let alias = check_text(&mut errors, "alias", input.alias.as_deref(), false);
    if !input.order_management {
        errors.push(UserError::new(
            "orderManagement",
            Code::OrderManagementRequired,
            "Order management must be on to connect a store: it is what imports its orders.",
        ));
    }
    let since = check_since(
        &mut errors,
        input.historical_import,
        input.historical_import_since,
    );
    let contact = check_contact(
        &mut errors,
        input.ioss_number.as_deref(),
        input.return_address.as_ref(),
        input.phone.as_deref(),
        input.email.as_deref(),
    );
    ensure_valid(errors)?;
    let (client_id, token) = (client_id.unwrap_or_default(), token.unwrap_or_default());

    let existing = integration::Entity::find()
        .filter(integration::Column::AccountId.eq(p.account_id))
        .filter(integration::Column::Channel.eq(ChannelKind::BigCommerce))
        .filter(integration::Column::StoreHash.eq(&store_hash))
        .one(&state.db)
        .await?;
    if existing
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
    if let Some(a) = &alias {
        if alias_owner(state, p.account_id, a)
            .await?
            .is_some_and(|id| Some(id) != existing_id)
        {
            return Err(alias_taken(a).into());
        }
    }

    let info = check_store(state, &store_hash, &token).await?;
    let alias = match alias {
        Some(a) => a,
        None => {
            let name: String = info.name.trim().chars().take(rules::MAX_TEXT).collect();
            let name = if name.is_empty() {
                store_hash.clone()
            } else {
                name
            };
            if alias_owner(state, p.account_id, &name)
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
        .encrypt(&token, &token_binding(p.account_id, &store_hash))?;
    let mut row = match existing {
        Some(e) => e.into_active_model(),
        None => integration::ActiveModel {
            account_id: Set(p.account_id),
            channel: Set(ChannelKind::BigCommerce),
            store_hash: Set(store_hash.clone()),
            created_at: Set(now),
            ..Default::default()
        },
    };
    row.status = Set(IntegrationStatus::Active);
    row.client_id = Set(client_id);
    row.access_token_ciphertext = Set(Some(ciphertext));
    row.access_token_last4 = Set(Some(last4(&token)));
    row.alias = Set(alias.clone());
    row.store_name = Set(info.name);
    row.store_currency = Set(info.currency);
    row.order_management = Set(true);
    row.inventory_management = Set(input.inventory_management);
    row.historical_import = Set(input.historical_import);
    row.historical_import_since = Set(since);
    row.import_orders_since = Set(input
        .historical_import
        .reach_back(now, since)
        .unwrap_or(now));
    row.ioss_number = Set(contact.ioss_number);
    row.return_address = Set(contact.return_address);
    row.phone = Set(contact.phone);
    row.phone_mode = Set(input.phone_mode);
    row.email = Set(contact.email);
    row.email_mode = Set(input.email_mode);
    row.connected_at = Set(now);
    row.disconnected_at = Set(None);
    row.updated_at = Set(now);
    let saved = match existing_id {
        Some(_) => row.update(&state.db).await,
        None => row.insert(&state.db).await,
    };
    let saved = saved.map_err(|e| unique_conflict(&e, &alias).unwrap_or_else(|| e.into()))?;
    tracing::info!(integration_id = saved.id, account_id = p.account_id, store = %saved.store_hash, "store connected");
    schedule_import_now(state, &saved).await;
    Ok(saved)
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
    ensure_valid(errors)?;

    if let Some(a) = &alias {
        if alias_owner(state, p.account_id, a)
            .await?
            .is_some_and(|owner| owner != current.id)
        {
            return Err(alias_taken(a).into());
        }
    }
    let now = Utc::now();
    let final_alias = alias.clone().unwrap_or_else(|| current.alias.clone());
    let mut row = current.clone().into_active_model();
    if let Some(token) = &token {
        let info = check_store(state, &current.store_hash, token).await?;
        row.access_token_ciphertext =
            Set(Some(state.cipher.encrypt(token, &current.token_binding())?));
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
    }
    row.alias = Set(final_alias.clone());
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
    row.updated_at = Set(now);
    let saved = row
        .update(&state.db)
        .await
        .map_err(|e| unique_conflict(&e, &final_alias).unwrap_or_else(|| e.into()))?;
    tracing::info!(integration_id = saved.id, "integration updated");
    if current.status != IntegrationStatus::Active && saved.status == IntegrationStatus::Active {
        schedule_import_now(state, &saved).await;
    }
    if !current.inventory_management && saved.inventory_management {
        push_every_listing(state, &saved).await;
    }
    Ok(saved)
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
    if let Err(e) = crate::sync::jobs::ensure_jobs_due_now(&state.db, saved).await {
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
    let now = Utc::now();
    let mut row = current.into_active_model();
    row.status = Set(IntegrationStatus::Disconnected);
    row.access_token_ciphertext = Set(None);
    row.access_token_last4 = Set(None);
    row.disconnected_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = row.update(&state.db).await?;
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
