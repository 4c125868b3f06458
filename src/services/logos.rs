//! Store logos: upload (checked and re-encoded), removal, metadata and bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set};
use sha2::{Digest, Sha256};

use super::logo_image::{self, LogoError};
use super::{blocking, integrations, Principal};
use crate::entities::{integration, integration_logo as logo};
use crate::error::{AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Logos decoded at once per process. Decoding and scaling a logo at the limits (4096×4096
/// pixels) takes up to about 175 MB for a moment (a 16-bit RGBA PNG; about 95 MB for a JPEG);
/// more uploads at once wait their turn rather than add to the peak (`tests/api/logos/memory.rs`).
pub const CONCURRENT_LOGOS: usize = 2;

/// How long an upload waits for its turn before failing (a turn at the limits takes about
/// 0.3 s in a release build).
const TURN_WAIT: Duration = Duration::from_secs(60);

/// The slots of [`AppState::logo_slots`].
pub fn slots() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(CONCURRENT_LOGOS))
}

/// A logo without its bytes.
#[derive(Clone, Debug, FromQueryResult)]
pub struct LogoMeta {
    /// The integration it belongs to.
    pub integration_id: i64,
    /// Always `image/png` (logos are re-encoded).
    pub content_type: String,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Stored size.
    pub byte_size: i32,
    /// SHA-256 of the stored bytes (hex), usable as an ETag.
    pub sha256: String,
    /// When it was uploaded.
    pub updated_at: DateTime<Utc>,
}

fn upload_error(e: LogoError) -> UserError {
    let (code, message) = match &e {
        LogoError::TooLarge(_) => (
            Code::FileTooLarge,
            "The logo must be at most 2 MB.".to_string(),
        ),
        LogoError::Unsupported => (
            Code::UnsupportedImageType,
            "The logo must be a PNG or JPEG image.".to_string(),
        ),
        LogoError::Dimensions(w, h) => (
            Code::ImageDimensionsTooLarge,
            format!("The logo is {w}×{h} pixels; it must be at most 4096×4096."),
        ),
        LogoError::Corrupt(_) => (
            Code::InvalidImage,
            "The logo image is damaged and cannot be read.".to_string(),
        ),
    };
    UserError::new("file", code, message)
}

/// Replaces the integration's logo with the checked and re-encoded upload.
pub async fn upload(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    bytes: Vec<u8>,
) -> AppResult<integration::Model> {
    let target = integrations::require(state, p, id, "integrationId").await?;
    if bytes.len() > logo_image::MAX_BYTES {
        return Err(upload_error(LogoError::TooLarge(bytes.len())).into());
    }
    let turn = tokio::time::timeout(TURN_WAIT, state.logo_slots.clone().acquire_owned())
        .await
        .map_err(|_| anyhow::anyhow!("no turn to decode the logo within {TURN_WAIT:?}"))?
        .map_err(|e| anyhow::anyhow!("the logo slots are closed: {e}"))?;
    // The turn moves into the task: a client that goes away while its logo decodes does not
    // free the slot before the decoding ends.
    let processed = blocking(move || {
        let _turn = turn;
        logo_image::process(&bytes)
    })
    .await?
    .map_err(upload_error)?;
    let sha = Sha256::digest(&processed.png)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let row = logo::ActiveModel {
        integration_id: Set(target.id),
        account_id: Set(p.account_id),
        content_type: Set("image/png".into()),
        width: Set(i32::try_from(processed.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(processed.height).unwrap_or(i32::MAX)),
        byte_size: Set(i32::try_from(processed.png.len()).unwrap_or(i32::MAX)),
        data: Set(processed.png),
        sha256: Set(sha),
        updated_at: Set(Utc::now()),
    };
    logo::Entity::insert(row)
        .on_conflict(
            OnConflict::column(logo::Column::IntegrationId)
                .update_columns([
                    logo::Column::ContentType,
                    logo::Column::Width,
                    logo::Column::Height,
                    logo::Column::ByteSize,
                    logo::Column::Data,
                    logo::Column::Sha256,
                    logo::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&state.db)
        .await?;
    tracing::info!(integration_id = target.id, "logo uploaded");
    Ok(target)
}

/// Removes the integration's logo (nothing happens when it has none).
pub async fn remove(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
) -> AppResult<integration::Model> {
    let target = integrations::require(state, p, id, "integrationId").await?;
    logo::Entity::delete_many()
        .filter(logo::Column::IntegrationId.eq(target.id))
        .filter(logo::Column::AccountId.eq(p.account_id))
        .exec(&state.db)
        .await?;
    Ok(target)
}

/// Logo metadata of the given integrations of one account, in one query.
pub async fn meta_for(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, LogoMeta>> {
    let rows = logo::Entity::find()
        .select_only()
        .columns([
            logo::Column::IntegrationId,
            logo::Column::ContentType,
            logo::Column::Width,
            logo::Column::Height,
            logo::Column::ByteSize,
            logo::Column::Sha256,
            logo::Column::UpdatedAt,
        ])
        .filter(logo::Column::AccountId.eq(account_id))
        .filter(logo::Column::IntegrationId.is_in(ids.iter().copied()))
        .into_model::<LogoMeta>()
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.integration_id, m)).collect())
}

/// The stored logo of an integration of the caller's account.
pub async fn data(
    state: &AppState,
    account_id: i64,
    integration_id: i64,
) -> AppResult<Option<logo::Model>> {
    Ok(logo::Entity::find_by_id(integration_id)
        .filter(logo::Column::AccountId.eq(account_id))
        .one(&state.db)
        .await?)
}
