//! `updatePrice`: a listing's price and sale price, validated, saved here and pushed to its
//! store at once (the push queue keeps it until the store has it; failures are retried with
//! backoff and shown on the listing).

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::push;
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::money::DecimalText;
use crate::domain::{IntegrationStatus, PricePushState, PushKind};
use crate::entities::{integration, listing};
use crate::error::{AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Highest price accepted (the catalog keeps prices far below this).
const MAX_PRICE: i64 = 1_000_000_000;

/// What the caller asks for. `sale_price`: `None` keeps it, `Some(None)` removes it.
#[derive(Debug, Clone)]
pub struct PriceChange {
    pub listing_id: Option<i64>,
    pub price: Decimal,
    pub sale_price: Option<Option<Decimal>>,
}

/// Decimals of a currency's minor unit (ISO 4217; 2 for any code not listed).
pub fn currency_decimals(code: &str) -> u32 {
    match code.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn check_amount(
    field: &str,
    label: &str,
    value: Decimal,
    decimals: u32,
    currency: &str,
) -> Vec<UserError> {
    let mut errors = Vec::new();
    if value <= Decimal::ZERO {
        errors.push(UserError::new(
            field,
            Code::PriceNotPositive,
            format!("The {label} must be more than zero."),
        ));
    } else if value >= Decimal::from(MAX_PRICE) {
        errors.push(UserError::new(
            field,
            Code::Invalid,
            format!("The {label} must be below {MAX_PRICE}."),
        ));
    }
    if value.normalize().scale() > decimals {
        errors.push(UserError::new(
            field,
            Code::TooManyDecimals,
            format!("{currency} amounts have at most {decimals} decimals; the {label} has more."),
        ));
    }
    errors
}

/// Validates and saves the change, then pushes it (the answer waits for the store). Returns
/// the listing as it stands afterwards (its price push state tells the outcome).
pub async fn update_price(
    state: &AppState,
    p: &Principal,
    change: PriceChange,
) -> AppResult<listing::Model> {
    let not_found = || {
        UserError::new(
            "listingId",
            Code::NotFound,
            "No listing with this id in your account.",
        )
    };
    let id = change.listing_id.ok_or_else(not_found)?;
    let current = listing::Entity::find_by_id(id)
        .filter(listing::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let store = integration::Entity::find_by_id(current.integration_id)
        .filter(integration::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    if store.status == IntegrationStatus::Disconnected {
        return Err(UserError::new(
            "listingId",
            Code::IntegrationDisconnected,
            "The listing's store is disconnected; reconnect it to change prices.",
        )
        .into());
    }
    if current.missing_since.is_some() {
        return Err(UserError::new(
            "listingId",
            Code::ListingMissing,
            "The store no longer has this product (deleted there); its price cannot be pushed.",
        )
        .into());
    }
    let currency = store.store_currency.clone().unwrap_or_else(|| "USD".into());
    let decimals = currency_decimals(&currency);
    let mut errors = check_amount("price", "price", change.price, decimals, &currency);
    let sale_price = match change.sale_price {
        Some(v) => v,
        None => current
            .sale_price
            .map(DecimalText::get)
            .filter(|d| !d.is_zero()),
    };
    if let Some(sale) = sale_price {
        errors.extend(check_amount(
            "salePrice",
            "sale price",
            sale,
            decimals,
            &currency,
        ));
        if sale > change.price {
            errors.push(UserError::new(
                "salePrice",
                Code::SalePriceAbovePrice,
                format!(
                    "The sale price ({sale}) is above the price ({}).",
                    change.price
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let price = change.price;
    let push_enabled = state.settings.push_enabled;
    let claimed = db::write(&state.db, |txn| {
        set_price_in(txn, p.account_id, id, price, sale_price, push_enabled).scope_boxed()
    })
    .await?;
    if let Some(token) = claimed {
        state.pusher.push_price_now(state, id, &token).await?;
    }
    listing::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found().into())
}

/// Stores the new price and queues its push; the push claimed for an immediate send, if any.
async fn set_price_in(
    txn: &DatabaseTransaction,
    account_id: i64,
    id: i64,
    price: Decimal,
    sale_price: Option<Decimal>,
    push_enabled: bool,
) -> AppResult<Option<String>> {
    listing::Entity::update_many()
        .col_expr(
            listing::Column::Price,
            Expr::value(DecimalText::normalized(price)),
        )
        .col_expr(
            listing::Column::SalePrice,
            Expr::value(sale_price.map(DecimalText::normalized)),
        )
        .col_expr(
            listing::Column::PricePushState,
            Expr::value(PricePushState::Pending),
        )
        .col_expr(listing::Column::PricePushError, Expr::value(None::<String>))
        .col_expr(listing::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(listing::Column::Id.eq(id))
        .exec(txn)
        .await?;
    push::enqueue_listings(txn, account_id, PushKind::Price, &[id]).await?;
    Ok(if push_enabled {
        push::claim_price(txn, id).await?
    } else {
        None
    })
}
