//! Document downloads (docs/rules.md §7):
//!
//! - `GET /documents/invoices.pdf?orders=12,13&paper=A4`,
//!   `GET /documents/labels.pdf?orders=12&paper=A6&carrier=…&service=…&tracking=…` and
//!   `GET /documents/labels.pdf?shipments=7,8&paper=A6`,
//!   `GET /documents/pick-list.pdf?orders=12,13` and
//!   `GET /documents/packing-slips.pdf?orders=12` (or `?shipments=7`), with the bearer token; `orders` takes
//!   order ids (`12` or `gid://orderdeck/Order/12`), `shipments` shipment ids (`7` or
//!   `gid://orderdeck/Shipment/7`), never both.
//! - `GET /documents/links/{token}`: a signed link from `createDocumentLink`, no token needed.
//! - `GET /exports/stock/{token}`: the stock CSV of a signed link from `exportStock`.
//!
//! Answers: 200 `application/pdf` with a `Content-Disposition` file name; 400 for a bad
//! query; 401 without a valid token; 403 for an altered link; 410 for an expired one; 404 when
//! an order or shipment is missing or belongs to another account.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use super::auth;
use super::error::HttpError;
use crate::domain::Permission;
use crate::pdf::{DocumentKind, PaperSize};
use crate::services::documents::{self, links, DocumentRequest, Shipping};
use crate::state::AppState;

/// The query of the bearer-token routes.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    orders: Option<String>,
    shipments: Option<String>,
    paper: Option<String>,
    carrier: Option<String>,
    service: Option<String>,
    tracking: Option<String>,
}

/// The row ids in a comma-separated list of `kind` ids (`12` or `gid://orderdeck/{kind}/12`).
fn row_ids(list: Option<String>, kind: &str) -> Result<Vec<i64>, HttpError> {
    let prefix = format!("gid://orderdeck/{kind}/");
    list.unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let item = s.trim();
            item.strip_prefix(prefix.as_str())
                .unwrap_or(item)
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| {
                    HttpError::BadRequest(format!(
                        "{s:?} is not a valid {} id",
                        kind.to_lowercase()
                    ))
                })
        })
        .collect()
}

fn paper(name: &str) -> Option<PaperSize> {
    [
        PaperSize::A4,
        PaperSize::Letter,
        PaperSize::Label4x6,
        PaperSize::A6,
    ]
    .into_iter()
    .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
}

fn request_of(kind: DocumentKind, q: DownloadQuery) -> Result<DocumentRequest, HttpError> {
    let order_ids = row_ids(q.orders, "Order")?;
    let shipment_ids = row_ids(q.shipments, "Shipment")?;
    let paper = match q.paper.as_deref() {
        None | Some("") => None,
        Some(name) => Some(paper(name).ok_or_else(|| {
            HttpError::BadRequest(format!(
                "paper must be A4, LETTER, LABEL_4X6 or A6, not {name:?}"
            ))
        })?),
    };
    let details = Shipping {
        carrier: q.carrier,
        service: q.service,
        tracking_number: q.tracking,
    };
    let shipping = if details == Shipping::default() {
        Vec::new()
    } else if !shipment_ids.is_empty() {
        return Err(HttpError::BadRequest(
            "carrier, service and tracking come from the shipments".into(),
        ));
    } else {
        order_ids.iter().map(|id| (*id, details.clone())).collect()
    };
    DocumentRequest {
        kind,
        order_ids,
        shipment_ids,
        paper,
        shipping,
        batch_id: None,
    }
    .validated()
    .map_err(HttpError::from)
}

async fn respond(
    state: &AppState,
    account_id: i64,
    request: &DocumentRequest,
) -> Result<HttpResponse, HttpError> {
    let doc = documents::render(state, account_id, request)
        .await?
        .ok_or(HttpError::NotFound("not found"))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(doc.file_name)],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(doc.bytes))
}

async fn with_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
    kind: DocumentKind,
) -> Result<HttpResponse, HttpError> {
    let principal = auth::required(&req, &state, Permission::PrintDocuments).await?;
    let request = request_of(kind, query.into_inner())?;
    respond(&state, principal.account_id, &request).await
}

/// `GET /documents/invoices.pdf`.
pub async fn invoices(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, HttpError> {
    with_token(req, state, query, DocumentKind::Invoice).await
}

/// `GET /documents/labels.pdf`.
pub async fn labels(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, HttpError> {
    with_token(req, state, query, DocumentKind::Label).await
}

/// `GET /documents/pick-list.pdf`.
pub async fn pick_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, HttpError> {
    with_token(req, state, query, DocumentKind::PickList).await
}

/// `GET /documents/packing-slips.pdf`.
pub async fn packing_slips(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, HttpError> {
    with_token(req, state, query, DocumentKind::PackingSlip).await
}

/// `GET /documents/links/{token}`.
pub async fn link(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (account_id, request) =
        links::open(&state.links, &token, Utc::now()).map_err(|e| match e {
            links::LinkError::Expired => HttpError::Gone("the link has expired"),
            links::LinkError::Invalid => HttpError::Forbidden("the link is invalid"),
        })?;
    respond(&state, account_id, &request).await
}

/// `GET /exports/stock/{token}`: the stock CSV of a signed link from `exportStock`, no token
/// needed (403 altered, 410 expired).
pub async fn stock_export(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    use crate::services::stock_counts;
    let account_id =
        stock_counts::open_export(&state.links, &token, Utc::now()).map_err(|e| match e {
            links::LinkError::Expired => HttpError::Gone("the link has expired"),
            links::LinkError::Invalid => HttpError::Forbidden("the link is invalid"),
        })?;
    let csv = stock_counts::export_csv(&state, account_id).await?;
    let name = format!("stock-{}.csv", Utc::now().format("%Y%m%d-%H%M%S"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(csv))
}
