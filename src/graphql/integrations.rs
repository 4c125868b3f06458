//! Connected stores: `integrations`, `integration`, `connectBigCommerce`, `updateIntegration`,
//! `disconnectIntegration`, `uploadIntegrationLogo`, `removeIntegrationLogo`,
//! `claimBigCommerceInstallation`.

use std::io::Read;

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, Upload, ID};
use chrono::{DateTime, NaiveDate, Utc};

use super::audit;
use super::catalog::StockBufferObject;
use super::context::{acting, principal_with_turn, state, Need};
use super::ids;
use super::loaders::LogoLoader;
use super::text;
use crate::domain::{AuditAction, Permission, StockBuffer, StockBufferMode};
use crate::domain::{
    ChannelKind, ConnectedVia, ContactMode, HistoricalImport, IntegrationStatus, PostalAddress,
    WebhookState,
};
use crate::entities::integration;
use crate::error::{into_payload, AppError, UserError};
use crate::services::integrations::{self as service, Change};
use crate::services::logos::{self, LogoMeta};
use crate::services::pagination::PageRequest;
use crate::services::Principal;

/// A connected store (one BigCommerce store) and its options.
pub struct Integration(pub integration::Model);

/// A postal address.
#[derive(SimpleObject)]
pub struct Address {
    /// Person or department.
    pub name: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// First street line.
    pub street1: String,
    /// Second street line.
    pub street2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code (e.g. `DE`).
    pub country_code: String,
}

impl From<&PostalAddress> for Address {
    fn from(a: &PostalAddress) -> Self {
        Self {
            name: a.name.clone(),
            company: a.company.clone(),
            street1: a.street1.clone(),
            street2: a.street2.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country_code: a.country_code.clone(),
        }
    }
}

/// A postal address to save.
#[derive(InputObject, Clone)]
pub struct AddressInput {
    /// Person or department.
    pub name: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// First street line (required).
    pub street1: String,
    /// Second street line.
    pub street2: Option<String>,
    /// City (required).
    pub city: String,
    /// State, province or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code (e.g. `DE`).
    pub country_code: String,
}

impl From<AddressInput> for PostalAddress {
    fn from(a: AddressInput) -> Self {
        Self {
            name: a.name,
            company: a.company,
            street1: a.street1,
            street2: a.street2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }
}

/// Stock to keep back from a store (or one listing).
#[derive(InputObject, Clone, Copy)]
pub struct StockBufferInput {
    /// `UNITS`: keep this many units back; `PERCENT`: keep this percentage back (the store
    /// is offered the rest, rounded down).
    pub mode: StockBufferMode,
    /// Units (0 to 1,000,000,000) or a percentage (0 to 100).
    pub value: i64,
}

impl From<StockBufferInput> for StockBuffer {
    fn from(b: StockBufferInput) -> Self {
        StockBuffer {
            mode: b.mode,
            value: b.value,
        }
    }
}

/// A store's logo, printed on invoices and labels.
pub struct Logo(LogoMeta);

/// A store's logo, printed on invoices and labels. Stored re-encoded as PNG.
#[Object]
impl Logo {
    /// Always `image/png`.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Width in pixels (at most 600).
    async fn width(&self) -> i32 {
        self.0.width
    }
    /// Height in pixels (at most 600).
    async fn height(&self) -> i32 {
        self.0.height
    }
    /// Stored size in bytes.
    async fn byte_size(&self) -> i32 {
        self.0.byte_size
    }
    /// SHA-256 of the stored image (hex).
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// When it was uploaded.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Path of the image on this server; `GET` it with the bearer token.
    async fn url(&self) -> String {
        format!("/integrations/{}/logo", self.0.integration_id)
    }
}

/// A connected store (one BigCommerce store) and its options.
#[Object]
impl Integration {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Integration", self.0.id)
    }
    /// The sales channel.
    async fn channel(&self) -> ChannelKind {
        self.0.channel
    }
    /// Whether orderdeck is talking to the store.
    async fn status(&self) -> IntegrationStatus {
        self.0.status
    }
    /// The BigCommerce store hash (`abc123`).
    async fn store_hash(&self) -> &str {
        &self.0.store_hash
    }
    /// The API account's client id.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }
    /// The last 4 characters of the stored access token (the token itself is never shown);
    /// null once disconnected.
    async fn access_token_last4(&self) -> Option<&str> {
        self.0.access_token_last4.as_deref()
    }
    /// The integration's name, unique within the account; the company name on invoices and labels.
    async fn alias(&self) -> &str {
        &self.0.alias
    }
    /// The store's own name, as the store reported it.
    async fn store_name(&self) -> &str {
        &self.0.store_name
    }
    /// The store's default currency (ISO 4217).
    async fn store_currency(&self) -> Option<&str> {
        self.0.store_currency.as_deref()
    }
    /// Whether the store's orders are imported.
    async fn order_management(&self) -> bool {
        self.0.order_management
    }
    /// On: orderdeck masters the stock and pushes it to the store. Off: the store's stock is
    /// imported and never pushed.
    async fn inventory_management(&self) -> bool {
        self.0.inventory_management
    }
    /// How far back the first order import reaches.
    async fn historical_import(&self) -> HistoricalImport {
        self.0.historical_import
    }
    /// The date of `SINCE_DATE` historical imports.
    async fn historical_import_since(&self) -> Option<NaiveDate> {
        self.0.historical_import_since
    }
    /// The first order import reaches back to this moment.
    async fn import_orders_since(&self) -> DateTime<Utc> {
        self.0.import_orders_since
    }
    /// Stock kept back from this store: every listing on it is offered the product's figure
    /// less this buffer (a listing's own buffer overrides it); null when the store is offered
    /// the whole figure.
    async fn stock_buffer(&self) -> Option<StockBufferObject> {
        self.0.stock_buffer.map(Into::into)
    }
    /// EU IOSS number, printed on customs declarations of shipments to EU countries. Store
    /// settings: null with a `FORBIDDEN` error for roles other than OWNER and ADMIN.
    #[graphql(guard = "Need(Permission::ReadStoreSettings)")]
    async fn ioss_number(&self) -> Option<&str> {
        self.0.ioss_number.as_deref()
    }
    /// Sender address on labels and invoices. Store settings: null with a `FORBIDDEN` error
    /// for roles other than OWNER and ADMIN.
    #[graphql(guard = "Need(Permission::ReadStoreSettings)")]
    async fn return_address(&self) -> Option<Address> {
        self.0.return_address.as_ref().map(Address::from)
    }
    /// The store's phone number for shipments, applied by `phoneMode`. Store settings: null
    /// with a `FORBIDDEN` error for roles other than OWNER and ADMIN.
    #[graphql(guard = "Need(Permission::ReadStoreSettings)")]
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// How `phone` is applied to shipments and labels.
    async fn phone_mode(&self) -> ContactMode {
        self.0.phone_mode
    }
    /// The store's email for shipments, applied by `emailMode`. Store settings: null with a
    /// `FORBIDDEN` error for roles other than OWNER and ADMIN.
    #[graphql(guard = "Need(Permission::ReadStoreSettings)")]
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// How `email` is applied to shipments and labels.
    async fn email_mode(&self) -> ContactMode {
        self.0.email_mode
    }
    /// How the store is doing: orders arriving, pushes and shipments reaching it, its API
    /// quota and webhooks, with a verdict and its reasons.
    async fn health(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::services::health::Health>> {
        super::loaders::load::<super::loaders::HealthLoader>(ctx, self.0.id).await
    }
    /// The uploaded logo, if any.
    async fn logo(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Logo>> {
        Ok(super::loaders::load::<LogoLoader>(ctx, self.0.id)
            .await?
            .map(Logo))
    }
    /// When the store was (last) connected.
    async fn connected_at(&self) -> DateTime<Utc> {
        self.0.connected_at
    }
    /// When the store was disconnected; null while connected.
    async fn disconnected_at(&self) -> Option<DateTime<Utc>> {
        self.0.disconnected_at
    }
    /// When the integration was first created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When any option last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// How the store was connected: manual API credentials or the app-store install.
    async fn connected_via(&self) -> ConnectedVia {
        self.0.connected_via
    }
    /// The store's order webhooks (near-real-time imports).
    async fn webhooks(&self) -> Webhooks<'_> {
        Webhooks(&self.0)
    }
    /// The store's recurring imports (orders, products): next run, last success, last
    /// failure and its error. Their runs are listed by `syncRuns`.
    async fn sync_jobs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::sync::SyncJob>> {
        super::sync::jobs_of_integration(ctx, &self.0).await
    }
}

/// The order webhooks of a store: with a public URL configured, new orders and status
/// changes are imported within seconds of happening; polling stays the safety net.
pub struct Webhooks<'a>(&'a integration::Model);

/// The order webhooks of a store: with a public URL configured, new orders and status
/// changes are imported within seconds of happening; polling stays the safety net.
#[Object]
impl Webhooks<'_> {
    /// `ACTIVE` when registered on the store, `FAILED` when the store refused (see `error`),
    /// `OFF` without a public URL or while disconnected.
    async fn state(&self) -> WebhookState {
        self.0.webhook_state
    }
    /// Why registering failed; null otherwise.
    async fn error(&self) -> Option<&str> {
        self.0.webhook_error.as_deref()
    }
    /// Where the store delivers (`{ORDERDECK_PUBLIC_URL}/webhooks/bigcommerce/{id}`).
    async fn destination(&self) -> Option<&str> {
        self.0.webhook_destination.as_deref()
    }
    /// When the hooks were last registered.
    async fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.0.webhooks_registered_at
    }
    /// When the last delivery was processed.
    async fn last_delivery_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_webhook_at
    }
}

super::connection::connection!(
    IntegrationConnection,
    IntegrationEdge,
    Integration,
    "connected stores"
);

/// Input of `connectBigCommerce`.
#[derive(InputObject)]
pub struct ConnectBigCommerceInput {
    /// The store hash from the API path (`abc123` in `stores/abc123`).
    pub store_hash: String,
    /// The API account's client id.
    pub client_id: String,
    /// The API account's access token; stored encrypted, never shown again.
    pub access_token: String,
    /// The store's options.
    #[graphql(flatten)]
    pub options: StoreOptionsInput,
}

/// The options a store is connected with (fields of `connectBigCommerce` and
/// `claimBigCommerceInstallation`).
#[derive(InputObject)]
pub struct StoreOptionsInput {
    /// Name of the integration, unique in the account; defaults to the store's name.
    pub alias: Option<String>,
    /// Import the store's orders. Must be true to connect.
    #[graphql(default = true)]
    pub order_management: bool,
    /// Let orderdeck master the stock and push it to the store.
    #[graphql(default = true)]
    pub inventory_management: bool,
    /// How far back the first order import reaches.
    #[graphql(default_with = "HistoricalImport::Last30Days")]
    pub historical_import: HistoricalImport,
    /// The date for `historicalImport: SINCE_DATE`.
    pub historical_import_since: Option<NaiveDate>,
    /// EU IOSS number (`IM` + 10 digits).
    pub ioss_number: Option<String>,
    /// Sender address on labels and invoices. Store settings: null with a `FORBIDDEN` error
    /// for roles other than OWNER and ADMIN.
    pub return_address: Option<AddressInput>,
    /// Phone number for shipments.
    pub phone: Option<String>,
    /// How `phone` is applied.
    #[graphql(default_with = "ContactMode::Prefill")]
    pub phone_mode: ContactMode,
    /// Email for shipments.
    pub email: Option<String>,
    /// How `email` is applied.
    #[graphql(default_with = "ContactMode::Prefill")]
    pub email_mode: ContactMode,
}

impl From<StoreOptionsInput> for service::StoreOptions {
    fn from(o: StoreOptionsInput) -> Self {
        service::StoreOptions {
            alias: o.alias,
            order_management: o.order_management,
            inventory_management: o.inventory_management,
            historical_import: o.historical_import,
            historical_import_since: o.historical_import_since,
            ioss_number: o.ioss_number,
            return_address: o.return_address.map(PostalAddress::from),
            phone: o.phone,
            phone_mode: o.phone_mode,
            email: o.email,
            email_mode: o.email_mode,
        }
    }
}

/// Input of `claimBigCommerceInstallation`.
#[derive(InputObject)]
pub struct ClaimBigCommerceInstallationInput {
    /// The claim code shown after installing the app from the BigCommerce control panel
    /// (case, spaces and dashes do not matter).
    pub code: String,
    /// The store's options.
    #[graphql(flatten)]
    pub options: StoreOptionsInput,
}

/// Input of `updateIntegration`: omitted fields keep their value; `null` clears a clearable one.
#[derive(InputObject)]
pub struct UpdateIntegrationInput {
    /// The integration to edit.
    pub id: ID,
    /// New alias.
    pub alias: Option<String>,
    /// New client id.
    pub client_id: Option<String>,
    /// New access token; checked against the store first, and brings a disconnected or
    /// rejected integration back to `ACTIVE`.
    pub access_token: Option<String>,
    /// Import the store's orders.
    pub order_management: Option<bool>,
    /// Let orderdeck master the stock.
    pub inventory_management: Option<bool>,
    /// How far back the first order import reaches.
    pub historical_import: Option<HistoricalImport>,
    /// The date for `SINCE_DATE`.
    pub historical_import_since: MaybeUndefined<NaiveDate>,
    /// EU IOSS number; null clears it.
    pub ioss_number: MaybeUndefined<String>,
    /// Sender address; null clears it.
    pub return_address: MaybeUndefined<AddressInput>,
    /// Phone for shipments; null clears it.
    pub phone: MaybeUndefined<String>,
    /// How `phone` is applied.
    pub phone_mode: Option<ContactMode>,
    /// Email for shipments; null clears it.
    pub email: MaybeUndefined<String>,
    /// How `email` is applied.
    pub email_mode: Option<ContactMode>,
    /// Stock to keep back from this store; null removes the buffer. Every listing of the
    /// store is pushed its new figure.
    pub stock_buffer: MaybeUndefined<StockBufferInput>,
}

fn change<T, U>(value: MaybeUndefined<T>, map: impl FnOnce(T) -> U) -> Change<U> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(map(v)),
    }
}

/// The audit summary of a connected store.
fn connected(m: &integration::Model) -> String {
    format!("{} ({})", m.alias, m.store_hash)
}

/// The settings an `updateIntegration` input changes, by name (never their values: the
/// access token is among them).
fn changed_settings(input: &UpdateIntegrationInput) -> Vec<&'static str> {
    let given = [
        ("alias", input.alias.is_some()),
        ("clientId", input.client_id.is_some()),
        ("accessToken", input.access_token.is_some()),
        ("orderManagement", input.order_management.is_some()),
        ("inventoryManagement", input.inventory_management.is_some()),
        ("historicalImport", input.historical_import.is_some()),
        (
            "historicalImportSince",
            !input.historical_import_since.is_undefined(),
        ),
        ("iossNumber", !input.ioss_number.is_undefined()),
        ("returnAddress", !input.return_address.is_undefined()),
        ("phone", !input.phone.is_undefined()),
        ("phoneMode", input.phone_mode.is_some()),
        ("email", !input.email.is_undefined()),
        ("emailMode", input.email_mode.is_some()),
        ("stockBuffer", !input.stock_buffer.is_undefined()),
    ];
    given
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name)
        .collect()
}

/// Input of `disconnectIntegration`.
#[derive(InputObject)]
pub struct DisconnectIntegrationInput {
    /// The integration to disconnect.
    pub id: ID,
}

/// Input of `uploadIntegrationLogo` (a GraphQL multipart request).
#[derive(InputObject)]
pub struct UploadIntegrationLogoInput {
    /// The integration.
    pub integration_id: ID,
    /// PNG or JPEG, at most 2 MB and 4096×4096 pixels.
    pub file: Upload,
}

/// Input of `removeIntegrationLogo`.
#[derive(InputObject)]
pub struct RemoveIntegrationLogoInput {
    /// The integration.
    pub integration_id: ID,
}

/// Result of a mutation on one integration.
#[derive(SimpleObject)]
pub struct IntegrationPayload {
    /// The integration after the change; null when `userErrors` is not empty.
    pub integration: Option<Integration>,
    /// What was wrong; empty on success.
    pub user_errors: Vec<UserError>,
}

impl IntegrationPayload {
    fn from_result(result: Result<integration::Model, AppError>) -> async_graphql::Result<Self> {
        let (model, user_errors) = into_payload(result)?;
        Ok(Self {
            integration: model.map(Integration),
            user_errors,
        })
    }

    /// The payload of a change to a store, recorded in the audit trail when it succeeded.
    async fn recorded(
        ctx: &Context<'_>,
        p: &Principal,
        action: AuditAction,
        summary: impl FnOnce(&integration::Model) -> String,
        result: Result<integration::Model, AppError>,
    ) -> async_graphql::Result<Self> {
        if let Ok(model) = &result {
            let target = ids::encode("Integration", model.id).0;
            audit::record(ctx, p, action, Some(target), summary(model)).await;
        }
        Self::from_result(result)
    }
}

/// Integration queries.
#[derive(Default)]
pub struct IntegrationQuery;

#[Object]
impl IntegrationQuery {
    /// The account's connected stores, oldest first.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Only integrations in this status.")] status: Option<IntegrationStatus>,
    ) -> async_graphql::Result<IntegrationConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let after = after.as_deref().map(ids::decode_cursor).transpose()?;
        let page = service::list(
            state(ctx)?,
            &p,
            status,
            PageRequest {
                first: u64::try_from(first).unwrap_or(1),
                after,
            },
        )
        .await?;
        Ok(IntegrationConnection::build(
            page,
            after.is_some(),
            |m| ids::cursor(m.id),
            Integration,
        ))
    }

    /// One connected store of the account; null when it does not exist or is another account's.
    async fn integration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the integration.")] id: ID,
    ) -> async_graphql::Result<Option<Integration>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let Some(row_id) = ids::decode("Integration", &id) else {
            return Ok(None);
        };
        let found = service::get(state(ctx)?, &p, row_id).await?;
        Ok(found.map(Integration))
    }
}

/// Integration mutations.
#[derive(Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Connects a BigCommerce store with manual API credentials, after checking them against
    /// the store (`GET /v2/store`). Connecting a disconnected store again reconnects it.
    async fn connect_big_commerce(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: ConnectBigCommerceInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let checked = allowed.and(text::plain(&input));
        let input = service::ConnectInput {
            store_hash: input.store_hash,
            client_id: input.client_id,
            access_token: input.access_token,
            options: input.options.into(),
        };
        let result = text::then(checked, service::connect(state(ctx)?, &p, input)).await;
        IntegrationPayload::recorded(ctx, &p, AuditAction::ConnectIntegration, connected, result)
            .await
    }

    /// Connects the store that installed the orderdeck app from the BigCommerce control panel
    /// to the caller's account, with the claim code its install page showed (once, within 24
    /// hours). A store of the account with the same hash is reconnected, keeping its history.
    async fn claim_big_commerce_installation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: ClaimBigCommerceInstallationInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let checked = allowed.and(text::plain(&input));
        let options: service::StoreOptions = input.options.into();
        let result = text::then(
            checked,
            crate::services::app_install::claim(state(ctx)?, &p, &input.code, &options),
        )
        .await;
        IntegrationPayload::recorded(ctx, &p, AuditAction::ConnectIntegration, connected, result)
            .await
    }

    /// Edits any option of a connected store; every change is validated before any is saved.
    async fn update_integration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UpdateIntegrationInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let checked = allowed.and(text::plain(&input));
        let id = ids::decode("Integration", &input.id);
        let changed = changed_settings(&input);
        let update = service::UpdateInput {
            alias: input.alias,
            client_id: input.client_id,
            access_token: input.access_token,
            order_management: input.order_management,
            inventory_management: input.inventory_management,
            historical_import: input.historical_import,
            historical_import_since: change(input.historical_import_since, |d| d),
            ioss_number: change(input.ioss_number, |v| v),
            return_address: change(input.return_address, PostalAddress::from),
            phone: change(input.phone, |v| v),
            phone_mode: input.phone_mode,
            email: change(input.email, |v| v),
            email_mode: input.email_mode,
            stock_buffer: change(input.stock_buffer, StockBuffer::from),
        };
        let result = text::then(checked, service::update(state(ctx)?, &p, id, update)).await;
        let summary = |_: &integration::Model| format!("changed: {}", changed.join(", "));
        IntegrationPayload::recorded(ctx, &p, AuditAction::UpdateIntegration, summary, result).await
    }

    /// Stops all sync and pushes for a store and erases its access token; imported history
    /// is kept. Disconnecting twice changes nothing.
    async fn disconnect_integration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DisconnectIntegrationInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let id = ids::decode("Integration", &input.id);
        let result = text::then(allowed, service::disconnect(state(ctx)?, &p, id)).await;
        let summary = |m: &integration::Model| format!("{} ({})", m.alias, m.store_hash);
        IntegrationPayload::recorded(ctx, &p, AuditAction::DisconnectIntegration, summary, result)
            .await
    }

    /// Sets or replaces a store's logo (GraphQL multipart request; PNG or JPEG, at most 2 MB
    /// and 4096×4096 pixels). Stored re-encoded as PNG, scaled to fit 600×600.
    async fn upload_integration_logo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UploadIntegrationLogoInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        if let Err(refused) = allowed {
            return IntegrationPayload::from_result(Err(refused));
        }
        let id = ids::decode("Integration", &input.integration_id);
        let upload = input.file.value(ctx)?;
        // Read at most one byte past the limit: enough to know it is too large.
        let mut bytes = Vec::new();
        upload
            .content
            .take(crate::services::logo_image::MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::internal(format!("reading the upload: {e}")))?;
        let size = bytes.len();
        let result = logos::upload(state(ctx)?, &p, id, bytes).await;
        let summary = |_: &integration::Model| format!("logo set ({size} bytes uploaded)");
        IntegrationPayload::recorded(ctx, &p, AuditAction::ChangeLogo, summary, result).await
    }

    /// Removes a store's logo.
    async fn remove_integration_logo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: RemoveIntegrationLogoInput,
    ) -> async_graphql::Result<IntegrationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let id = ids::decode("Integration", &input.integration_id);
        let result = text::then(allowed, logos::remove(state(ctx)?, &p, id)).await;
        let summary = |_: &integration::Model| "logo removed".to_string();
        IntegrationPayload::recorded(ctx, &p, AuditAction::ChangeLogo, summary, result).await
    }
}
