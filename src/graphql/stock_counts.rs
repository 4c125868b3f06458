//! `importStockCounts` (a CSV stock count, with a dry run) and `exportStock` (a signed link to
//! the stock CSV).

use std::io::Read;

use async_graphql::{Context, InputObject, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, state};
use super::text;
use crate::domain::{AuditAction, Permission, StockCountMode, StockCountRowStatus};
use crate::error::{into_payload, AppError, UserError};
use crate::services::stock_counts::{self, CountFile, CountReport, RowOutcome};

/// Applies (or checks, with `dryRun`) a stock count file.
#[derive(InputObject)]
pub struct ImportStockCountsInput {
    /// A CSV file (GraphQL multipart request) with a header naming `sku` and `quantity`
    /// (other columns are ignored): comma- or semicolon-separated, UTF-8 with or without a
    /// byte-order mark, at most 100,000 rows and 10 MB.
    pub file: Upload,
    /// `SET`: each quantity is the new figure; `ADJUST`: each is added (negative takes away).
    pub mode: StockCountMode,
    /// Check every row and answer with the outcomes, changing nothing.
    #[graphql(default = false)]
    pub dry_run: bool,
    /// Why (1–200 characters); kept on every movement as its note.
    pub reason: String,
    /// Apply a file that was applied before (otherwise `IDEMPOTENCY_KEY_REUSED`).
    #[graphql(default = false)]
    pub force: bool,
}

/// One row of a stock count file and its outcome.
#[derive(SimpleObject)]
pub struct StockCountRow {
    /// The line in the file (the header is line 1).
    pub line: i32,
    /// The SKU as given.
    pub sku: String,
    /// `OK`, or why the row is not applied.
    pub status: StockCountRowStatus,
    /// The product's figure before (null for an unknown SKU or a bundle).
    pub before: Option<i64>,
    /// Its figure after (`OK` rows only).
    pub after: Option<i64>,
    /// What is wrong with the row, in plain words.
    pub message: Option<String>,
}

impl From<&RowOutcome> for StockCountRow {
    fn from(r: &RowOutcome) -> Self {
        StockCountRow {
            line: i32::try_from(r.line).unwrap_or(i32::MAX),
            sku: r.sku.clone(),
            status: r.status,
            before: r.before,
            after: r.after,
            message: r.message.clone(),
        }
    }
}

/// What a stock count file did, or would do.
pub struct StockCountResult(CountReport);

/// What a stock count file did, or would do.
#[Object]
impl StockCountResult {
    /// How its quantities applied.
    async fn mode(&self) -> StockCountMode {
        self.0.mode
    }
    /// Whether this was a dry run (nothing changed).
    async fn dry_run(&self) -> bool {
        self.0.dry_run
    }
    /// Whether the `OK` rows were applied.
    async fn applied(&self) -> bool {
        self.0.applied
    }
    /// Rows in the file (empty lines left out).
    async fn row_count(&self) -> usize {
        self.0.rows.len()
    }
    /// `OK` rows.
    async fn ok_count(&self) -> usize {
        self.0.rows.len() - self.0.problems().count()
    }
    /// `OK` rows whose figure changes.
    async fn changed_count(&self) -> usize {
        self.0.changed
    }
    /// Rows not applied.
    async fn problem_count(&self) -> usize {
        self.0.problems().count()
    }
    /// The rows not applied, with why, in file order.
    async fn problems(&self) -> Vec<StockCountRow> {
        self.0.problems().map(StockCountRow::from).collect()
    }
    /// The rows in file order with their outcomes, a page at a time.
    async fn rows(
        &self,
        #[graphql(
            desc = "How many rows (1–1000).",
            default = 100,
            validator(minimum = 1, maximum = 1000)
        )]
        first: i32,
        #[graphql(desc = "How many rows to skip.", default = 0, validator(minimum = 0))]
        offset: i32,
    ) -> Vec<StockCountRow> {
        self.0
            .rows
            .iter()
            .skip(usize::try_from(offset).unwrap_or(0))
            .take(usize::try_from(first).unwrap_or(0))
            .map(StockCountRow::from)
            .collect()
    }
    /// SHA-256 of the file (hex): the file's identity for `IDEMPOTENCY_KEY_REUSED`.
    async fn file_sha256(&self) -> &str {
        &self.0.file_sha256
    }
}

/// The outcome of `importStockCounts`.
#[derive(SimpleObject)]
pub struct ImportStockCountsPayload {
    /// Every row's outcome and the totals.
    pub result: Option<StockCountResult>,
    /// Why nothing was changed (the file or the input as a whole).
    pub user_errors: Vec<UserError>,
}

/// A short-lived link to the stock CSV.
#[derive(SimpleObject)]
pub struct StockExportLink {
    /// Path of the download, relative to this server's origin (`/exports/stock/…`); a plain
    /// `GET` without a token downloads the CSV.
    pub url: String,
    /// When the link stops working (15 minutes after it was made).
    pub expires_at: DateTime<Utc>,
}

/// The outcome of `exportStock`.
#[derive(SimpleObject)]
pub struct ExportStockPayload {
    /// The link.
    pub link: Option<StockExportLink>,
    /// Why no link was made.
    pub user_errors: Vec<UserError>,
}

/// Stock count mutations.
#[derive(Default)]
pub struct StockCountMutation;

#[Object]
impl StockCountMutation {
    /// Applies a stock count file: every valid row in one transaction (`COUNT_SET` or
    /// `COUNT_ADJUST` movements), pushed to the stores as one burst; rows with a problem are
    /// listed and left alone. `dryRun` answers the same outcomes and changes nothing. The file
    /// as a whole: `INVALID_FILE`, `FILE_TOO_LARGE`, `REQUIRED`/`TOO_LONG` (reason),
    /// `IDEMPOTENCY_KEY_REUSED` (the same file applied before; pass `force`). Rows:
    /// `UNKNOWN_SKU`, `BUNDLE_STOCK_IS_COMPUTED`, `INVALID_QUANTITY`, `DUPLICATE_SKU`. Needs
    /// the permission to set stock figures.
    async fn import_stock_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file and how to apply it.")] input: ImportStockCountsInput,
    ) -> async_graphql::Result<ImportStockCountsPayload> {
        let (p, allowed) = acting(ctx, Permission::SetStock)?;
        if let Err(refused) = allowed {
            let (_, user_errors) = into_payload::<()>(Err(refused))?;
            return Ok(ImportStockCountsPayload {
                result: None,
                user_errors,
            });
        }
        let checked = text::plain(&input);
        let upload = input.file.value(ctx)?;
        // Read at most one byte past the limit: enough to know it is too large.
        let mut bytes = Vec::new();
        upload
            .content
            .take(stock_counts::MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::internal(format!("reading the upload: {e}")))?;
        let file = CountFile {
            bytes,
            mode: input.mode,
            dry_run: input.dry_run,
            reason: input.reason,
            force: input.force,
        };
        let result = text::then(checked, stock_counts::import(state(ctx)?, &p, file)).await;
        let (report, user_errors) = into_payload(result)?;
        if let Some(r) = report.as_ref().filter(|r| r.applied) {
            let summary = format!(
                "{} file {}: {} rows, {} changed, {} not applied",
                r.mode.as_str(),
                &r.file_sha256[..12],
                r.rows.len(),
                r.changed,
                r.problems().count()
            );
            audit::record(ctx, &p, AuditAction::ImportStockCounts, None, summary).await;
        }
        Ok(ImportStockCountsPayload {
            result: report.map(StockCountResult),
            user_errors,
        })
    }

    /// A link (valid 15 minutes, no token needed) to a CSV of every product: SKU, name,
    /// stock, low-stock threshold, whether it is a bundle, and the figure last pushed to each
    /// store.
    async fn export_stock(&self, ctx: &Context<'_>) -> async_graphql::Result<ExportStockPayload> {
        let (p, allowed) = acting(ctx, Permission::Read)?;
        let made = allowed.map(|()| {
            let expires_at = Utc::now() + stock_counts::EXPORT_TTL;
            let token = stock_counts::export_token(&state(ctx)?.links, p.account_id, expires_at);
            Ok::<_, async_graphql::Error>(StockExportLink {
                url: format!("/exports/stock/{token}"),
                expires_at,
            })
        });
        let (link, user_errors) = match made {
            Ok(link) => (Some(link?), Vec::new()),
            Err(refused) => {
                let (_, errors) = into_payload::<()>(Err(refused))?;
                (None, errors)
            }
        };
        if link.is_some() {
            audit::record(ctx, &p, AuditAction::ExportStock, None, "stock CSV link").await;
        }
        Ok(ExportStockPayload { link, user_errors })
    }
}
