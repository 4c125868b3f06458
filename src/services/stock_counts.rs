//! Stock counts from a CSV file (`importStockCounts`) and the stock export (`exportStock`),
//! docs/rules.md §4.
//!
//! A count file has a header naming a `sku` and a `quantity` column (other columns are
//! ignored), comma- or semicolon-separated, UTF-8 with or without a byte-order mark, at most
//! 100,000 rows and 10 MB. Every row gets an outcome; a dry run stops there. A real run
//! applies every valid row in one transaction, through the ledger (`COUNT_SET` or
//! `COUNT_ADJUST` movements, the reason as their note), and queues the pushes together, so
//! the stores receive them as one burst. The file's SHA-256 (with the mode) is its
//! idempotency key: the same file applied again is `IDEMPOTENCY_KEY_REUSED` unless forced.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::LockType;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};

use super::events::Event;
use super::ledger::{self, Movement};
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::{StockCountMode, StockCountRowStatus as Status, StockReason};
use crate::entities::{inventory_item as item, stock_movement as movement};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// The largest count file accepted, in bytes.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most rows (besides the header) a count file may have.
pub const MAX_ROWS: usize = 100_000;
/// The largest figure or change a row may give.
const MAX_QUANTITY: i64 = 1_000_000_000;
/// Items locked and read per statement.
const CHUNK: usize = 500;

/// An `importStockCounts` request.
#[derive(Clone, Debug)]
pub struct CountFile {
    pub bytes: Vec<u8>,
    pub mode: StockCountMode,
    pub dry_run: bool,
    pub reason: String,
    /// Apply a file that was applied before.
    pub force: bool,
}

/// One row's outcome.
#[derive(Clone, Debug)]
pub struct RowOutcome {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub sku: String,
    pub status: Status,
    /// The product's figure before.
    pub before: Option<i64>,
    /// Its figure after (for `OK` rows).
    pub after: Option<i64>,
    pub message: Option<String>,
}

/// What a count file did (or, in a dry run, would do).
#[derive(Clone, Debug)]
pub struct CountReport {
    pub mode: StockCountMode,
    pub dry_run: bool,
    /// Whether the valid rows were applied (false for a dry run).
    pub applied: bool,
    /// Every row, in file order.
    pub rows: Vec<RowOutcome>,
    /// `OK` rows whose figure changes.
    pub changed: usize,
    /// SHA-256 of the file (hex).
    pub file_sha256: String,
}

impl CountReport {
    /// Rows that are not `OK`.
    pub fn problems(&self) -> impl Iterator<Item = &RowOutcome> {
        self.rows.iter().filter(|r| r.status != Status::Ok)
    }
}

fn invalid_file(message: impl Into<String>) -> UserError {
    UserError::new("file", Code::InvalidFile, message)
}

/// A parsed row: its line, SKU and quantity text.
struct Row {
    line: usize,
    sku: String,
    quantity: String,
}

/// Reads the rows of a count file, or why the file cannot be read at all.
fn parse(bytes: &[u8]) -> Result<Vec<Row>, UserError> {
    if bytes.len() > MAX_BYTES {
        return Err(UserError::new(
            "file",
            Code::FileTooLarge,
            format!("A count file is at most {} MB.", MAX_BYTES / (1024 * 1024)),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| invalid_file("The file is not UTF-8 text; save it as CSV UTF-8."))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| invalid_file(format!("The header cannot be read: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(sku_at), Some(quantity_at)) = (column("sku"), column("quantity")) else {
        return Err(invalid_file(
            "The first line must be a header naming the columns sku and quantity.",
        ));
    };
    let mut rows = Vec::new();
    // The line of each record, counted from where it ends (the reader's own line count does
    // not follow `\r\n` and blank lines as a spreadsheet shows them).
    let (mut counted_to, mut newlines) = (0usize, 0usize);
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| invalid_file(format!("The file cannot be read: {e}")))?;
        if !more {
            break;
        }
        let end = usize::try_from(reader.position().byte())
            .unwrap_or(usize::MAX)
            .clamp(counted_to, text.len());
        newlines += text.as_bytes()[counted_to..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = end;
        let line = if text.as_bytes()[..end].ends_with(b"\n") {
            newlines
        } else {
            newlines + 1
        };
        let sku = record.get(sku_at).unwrap_or_default();
        let quantity = record.get(quantity_at).unwrap_or_default();
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(invalid_file(format!(
                "A count file has at most {MAX_ROWS} rows; split it."
            )));
        }
        rows.push(Row {
            line,
            sku: sku.to_string(),
            quantity: quantity.to_string(),
        });
    }
    if rows.is_empty() {
        return Err(invalid_file("The file has a header but no rows."));
    }
    Ok(rows)
}

/// The idempotency-key prefix of a file's movements: `count:{mode}:{sha256}:`.
fn key_prefix(mode: StockCountMode, sha: &str) -> String {
    format!("count:{}:{sha}:", mode.as_str())
}

/// Checks a count file and, unless it is a dry run, applies its valid rows.
pub async fn import(state: &AppState, p: &Principal, file: CountFile) -> AppResult<CountReport> {
    let mut errors = super::inventory::reason_errors(&file.reason);
    let rows = match parse(&file.bytes) {
        Ok(rows) => rows,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    ensure_valid(errors)?;
    let sha = hex(&Sha256::digest(&file.bytes));
    let prefix = key_prefix(file.mode, &sha);
    let (file, rows, prefix, sha) = (&file, &rows, &prefix, sha.as_str());
    if file.dry_run {
        let report = judge(&state.db, p, file, rows, sha, false).await?;
        return Ok(report.0);
    }
    let (report, moved) = db::write(&state.db, |txn| {
        async move {
            if !file.force && applied_before(txn, p.account_id, prefix).await? {
                return Err(UserError::new(
                    "file",
                    Code::IdempotencyKeyReused,
                    "This file was applied already. Pass force: true to apply it again.",
                )
                .into());
            }
            let (report, changes) = judge(txn, p, file, rows, sha, true).await?;
            let run = Utc::now().timestamp_micros();
            let reason = match file.mode {
                StockCountMode::Set => StockReason::CountSet,
                StockCountMode::Adjust => StockReason::CountAdjust,
            };
            let changes: Vec<(Movement, i64, i64)> = changes
                .into_iter()
                .map(|(item_id, before, after)| {
                    let m = Movement {
                        account_id: p.account_id,
                        item_id,
                        reason,
                        actor_user_id: p.user_id(),
                        actor_api_key_id: p.api_key_id(),
                        integration_id: None,
                        order_id: None,
                        idempotency_key: Some(format!("{prefix}{run}:{item_id}")),
                        note: Some(file.reason.trim().to_string()),
                        bundle_item_id: None,
                    };
                    (m, before, after)
                })
                .collect();
            ledger::change_many_locked(txn, p.account_id, changes).await?;
            let moved = recorded(txn, p.account_id, &format!("{prefix}{run}:")).await?;
            Ok::<_, AppError>((report, moved))
        }
        .scope_boxed()
    })
    .await?;
    state.pushes_queued();
    state.events.publish(
        moved
            .into_iter()
            .map(|(item_id, movement_id)| Event::StockChanged {
                account_id: p.account_id,
                item_id,
                movement_id,
            }),
    );
    tracing::info!(
        rows = report.rows.len(),
        changed = report.changed,
        problems = report.problems().count(),
        "stock count file applied"
    );
    Ok(report)
}

/// Whether movements of this file (any earlier run) are in the ledger. A key range, so the
/// unique index on (account, key) answers it.
async fn applied_before<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    prefix: &str,
) -> AppResult<bool> {
    Ok(movement::Entity::find()
        .select_only()
        .column(movement::Column::Id)
        .filter(movement::Column::AccountId.eq(account_id))
        .filter(movement::Column::IdempotencyKey.gte(prefix))
        .filter(movement::Column::IdempotencyKey.lt(after_prefix(prefix)))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// The smallest string after every string starting with `prefix` (which ends with `:`).
fn after_prefix(prefix: &str) -> String {
    let mut end = prefix.trim_end_matches(':').to_string();
    end.push(';');
    end
}

/// The (item, movement) of every movement recorded with keys starting with `prefix`, changed
/// figures only (the stock count events).
async fn recorded<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    prefix: &str,
) -> AppResult<Vec<(i64, i64)>> {
    Ok(movement::Entity::find()
        .select_only()
        .column(movement::Column::InventoryItemId)
        .column(movement::Column::Id)
        .filter(movement::Column::AccountId.eq(account_id))
        .filter(movement::Column::IdempotencyKey.gte(prefix))
        .filter(movement::Column::IdempotencyKey.lt(after_prefix(prefix)))
        .filter(movement::Column::Delta.ne(0))
        .order_by_asc(movement::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// Every row's outcome against the figures now, and the changes of the `OK` rows as (item,
/// before, after). With `lock`, the items are locked (in id order) before they are read.
async fn judge<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    file: &CountFile,
    rows: &[Row],
    sha: &str,
    lock: bool,
) -> AppResult<(CountReport, Vec<(i64, i64, i64)>)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        *seen.entry(r.sku.as_str()).or_default() += 1;
    }
    let skus: Vec<&str> = seen.keys().copied().filter(|s| !s.is_empty()).collect();
    let items = load_items(db, p.account_id, &skus, lock).await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut changes = Vec::new();
    for r in rows {
        let outcome = |status, message: Option<String>| RowOutcome {
            line: r.line,
            sku: r.sku.clone(),
            status,
            before: items.get(r.sku.as_str()).map(|i| i.quantity),
            after: None,
            message,
        };
        let Some(found) = items.get(r.sku.as_str()) else {
            outcomes.push(outcome(
                Status::UnknownSku,
                Some("No product of your account has this SKU.".into()),
            ));
            continue;
        };
        if seen.get(r.sku.as_str()).copied().unwrap_or(0) > 1 {
            outcomes.push(outcome(
                Status::DuplicateSku,
                Some("This SKU is on more than one row; give it once.".into()),
            ));
            continue;
        }
        if found.bundle {
            let mut bundle = outcome(
                Status::BundleStockIsComputed,
                Some("A bundle's stock is computed from its components; count those.".into()),
            );
            // Its stored column is not its figure.
            bundle.before = None;
            outcomes.push(bundle);
            continue;
        }
        let quantity = match r.quantity.parse::<i64>() {
            Ok(q) if (-MAX_QUANTITY..=MAX_QUANTITY).contains(&q) => q,
            _ => {
                outcomes.push(outcome(
                    Status::InvalidQuantity,
                    Some(format!(
                        "\"{}\" is not a whole number between -{MAX_QUANTITY} and {MAX_QUANTITY}.",
                        r.quantity
                    )),
                ));
                continue;
            }
        };
        let after = match file.mode {
            StockCountMode::Set => quantity,
            StockCountMode::Adjust => found.quantity.saturating_add(quantity),
        };
        if !(0..=MAX_QUANTITY).contains(&after) {
            outcomes.push(outcome(
                Status::InvalidQuantity,
                Some(format!(
                    "This would take the stock from {} to {after}; a count keeps it between 0 and {MAX_QUANTITY}.",
                    found.quantity
                )),
            ));
            continue;
        }
        changes.push((found.id, found.quantity, after));
        let mut ok = outcome(Status::Ok, None);
        ok.after = Some(after);
        outcomes.push(ok);
    }
    let changed = changes.iter().filter(|(_, b, a)| a != b).count();
    let report = CountReport {
        mode: file.mode,
        dry_run: file.dry_run,
        applied: !file.dry_run,
        rows: outcomes,
        changed,
        file_sha256: sha.to_string(),
    };
    Ok((report, changes))
}

/// The account's live products with these SKUs, by SKU; with `lock`, their rows are locked as
/// they are read (PostgreSQL; a write transaction on SQLite holds the write lock already).
async fn load_items<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    skus: &[&str],
    lock: bool,
) -> AppResult<HashMap<String, item::Model>> {
    let mut found = HashMap::with_capacity(skus.len());
    let mut sorted = skus.to_vec();
    sorted.sort_unstable();
    for chunk in sorted.chunks(CHUNK) {
        let mut query = item::Entity::find()
            .filter(item::Column::AccountId.eq(account_id))
            .filter(item::Column::DeletedAt.is_null())
            .filter(item::Column::Sku.is_in(chunk.iter().copied()))
            .order_by_asc(item::Column::Id);
        if lock {
            query = query.lock(LockType::Update);
        }
        for i in query.all(db).await? {
            if let Some(sku) = i.sku.clone() {
                found.insert(sku, i);
            }
        }
    }
    Ok(found)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long an export link works.
pub const EXPORT_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// Products read per statement while exporting.
const EXPORT_PAGE: u64 = 1000;
/// The prefix of export link tokens (never a document link's).
const EXPORT_VERSION: &str = "stock1";

/// A signed token for the account's stock export, valid until `expires_at`.
pub fn export_token(
    signer: &crate::crypto::LinkSigner,
    account_id: i64,
    expires_at: chrono::DateTime<Utc>,
) -> String {
    signer.seal(&format!(
        "{EXPORT_VERSION}.{account_id}.{}",
        expires_at.timestamp()
    ))
}

/// The account of a valid export `token` at `now`.
pub fn open_export(
    signer: &crate::crypto::LinkSigner,
    token: &str,
    now: chrono::DateTime<Utc>,
) -> Result<i64, super::documents::links::LinkError> {
    use super::documents::links::LinkError;
    let message = signer.unseal(token).ok_or(LinkError::Invalid)?;
    let mut parts = message.split('.');
    let (Some(EXPORT_VERSION), Some(account), Some(expiry), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Invalid);
    };
    let account: i64 = account.parse().map_err(|_| LinkError::Invalid)?;
    let expiry: i64 = expiry.parse().map_err(|_| LinkError::Invalid)?;
    if now.timestamp() >= expiry {
        return Err(LinkError::Expired);
    }
    Ok(account)
}

/// The account's stock as CSV: one row per product (deleted ones left out) in SKU order, with
/// `sku,name,stock,low_stock_threshold,bundle`, then per store (by alias) the figure last
/// pushed to it (empty when the store does not list the product or nothing was pushed yet).
pub async fn export_csv(state: &AppState, account_id: i64) -> AppResult<Vec<u8>> {
    use crate::entities::{integration, listing};
    let stores: Vec<integration::Model> = integration::Entity::find()
        .filter(integration::Column::AccountId.eq(account_id))
        .order_by_asc(integration::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["sku", "name", "stock", "low_stock_threshold", "bundle"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(stores.iter().map(|s| format!("pushed:{}", s.alias)));
    let csv_error =
        |e: csv::Error| crate::error::AppError::internal(format!("writing the stock CSV: {e}"));
    out.write_record(&header).map_err(csv_error)?;
    let column: HashMap<i64, usize> = stores.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut after: Option<(String, i64)> = None;
    loop {
        let mut query = item::Entity::find()
            .filter(item::Column::AccountId.eq(account_id))
            .filter(item::Column::DeletedAt.is_null())
            .filter(item::Column::Sku.is_not_null())
            .order_by_asc(item::Column::Sku)
            .order_by_asc(item::Column::Id)
            .limit(EXPORT_PAGE);
        if let Some((sku, id)) = &after {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(item::Column::Sku.gt(sku.as_str()))
                    .add(
                        sea_orm::Condition::all()
                            .add(item::Column::Sku.eq(sku.as_str()))
                            .add(item::Column::Id.gt(*id)),
                    ),
            );
        }
        let items = query.all(&state.db).await?;
        let Some(last) = items.last() else { break };
        after = Some((last.sku.clone().unwrap_or_default(), last.id));
        let figures = super::bundles::figures(&state.db, account_id, &items).await?;
        let mut pushed: HashMap<i64, Vec<Option<i64>>> = HashMap::new();
        for l in listing::Entity::find()
            .filter(listing::Column::AccountId.eq(account_id))
            .filter(listing::Column::InventoryItemId.is_in(items.iter().map(|i| i.id)))
            .filter(listing::Column::MissingSince.is_null())
            .order_by_asc(listing::Column::Id)
            .all(&state.db)
            .await?
        {
            let Some(&at) = column.get(&l.integration_id) else {
                continue;
            };
            let row = pushed
                .entry(l.inventory_item_id)
                .or_insert_with(|| vec![None; stores.len()]);
            if row[at].is_none() {
                row[at] = l.pushed_stock;
            }
        }
        for i in &items {
            let mut record = vec![
                i.sku.clone().unwrap_or_default(),
                i.name.clone(),
                figures
                    .get(&i.id)
                    .copied()
                    .unwrap_or(i.quantity)
                    .to_string(),
                i.low_stock_threshold
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                if i.bundle { "yes" } else { "no" }.to_string(),
            ];
            let per_store = pushed
                .remove(&i.id)
                .unwrap_or_else(|| vec![None; stores.len()]);
            record.extend(
                per_store
                    .into_iter()
                    .map(|p| p.map(|q| q.to_string()).unwrap_or_default()),
            );
            out.write_record(&record).map_err(csv_error)?;
        }
        if (items.len() as u64) < EXPORT_PAGE {
            break;
        }
    }
    out.into_inner()
        .map_err(|e| crate::error::AppError::internal(format!("writing the stock CSV: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_count_file_may_have_a_bom_semicolons_quotes_and_extra_columns() {
        let rows = parse(
            "\u{feff}SKU;Name;Quantity\r\nA-1;\"Mug; blue\";5\r\n\r\nB-2;Plate;-3\n".as_bytes(),
        )
        .expect("parsed");
        let got: Vec<(usize, &str, &str)> = rows
            .iter()
            .map(|r| (r.line, r.sku.as_str(), r.quantity.as_str()))
            .collect();
        assert_eq!(got, vec![(2, "A-1", "5"), (4, "B-2", "-3")]);
    }

    #[test]
    fn a_file_without_the_header_or_rows_or_in_another_encoding_is_refused() {
        for bytes in [
            &b"A-1,5\nB-2,3\n"[..],
            &b"sku,quantity\n"[..],
            &b"sku,quantity\n\xff\xfe,1\n"[..],
        ] {
            let e = parse(bytes).err().expect("refused");
            assert_eq!(e.code, Code::InvalidFile);
        }
    }

    #[test]
    fn the_keys_of_one_file_sort_between_its_prefix_and_the_bound_after_it() {
        let prefix = key_prefix(StockCountMode::Set, "ab12");
        let key = format!("{prefix}1700000000:42");
        assert!(key.as_str() >= prefix.as_str() && key < after_prefix(&prefix));
        assert!("count:SET:ab13:1:1" > after_prefix(&prefix).as_str());
    }
}
