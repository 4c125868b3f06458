//! Documents: `createDocumentLink` hands out a short-lived signed URL that downloads invoices,
//! labels, a pick list or packing slips of one or many orders, or the labels or packing slips
//! of shipments, as one PDF (a browser needs no token to follow it).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::error::{into_payload, UserError, UserErrorCode};
use crate::pdf::{DocumentKind, PaperSize};
use crate::services::documents::{self as service, CreatedLink, DocumentRequest, Shipping};

/// Carrier details printed on one order's label. Until orders have shipments, these come with
/// the request; later they default to the order's shipment.
#[derive(InputObject)]
pub struct DocumentShippingInput {
    /// The order (one of `orderIds`).
    pub order_id: ID,
    /// Carrier name, e.g. `DHL` (at most 100 characters).
    pub carrier: Option<String>,
    /// Carrier service, e.g. `Express` (at most 100 characters).
    pub service: Option<String>,
    /// Tracking number, printed as text and as a Code128 barcode (1–40 printable ASCII
    /// characters).
    pub tracking_number: Option<String>,
}

/// Asks for a download link.
#[derive(InputObject)]
pub struct CreateDocumentLinkInput {
    /// Invoices, labels, a pick list, packing slips, or a batch's parcels.
    pub kind: DocumentKind,
    /// The orders (1–500), in the order their pages come; all in one PDF. Leave out when
    /// naming `shipmentIds` or `orderFilter`.
    pub order_ids: Option<Vec<ID>>,
    /// Instead of `orderIds`: every order this filter matches (1–500), oldest first, e.g. the
    /// NEW orders of two stores placed before noon. The link names the orders matched now.
    pub order_filter: Option<super::orders::OrderFilterInput>,
    /// Labels and packing slips only, instead of `orderIds`: the shipments (1–500), one page
    /// each in this order, showing what each shipment recorded (labels: carrier, service,
    /// tracking number, weight, contact, customs declaration of the lines it carries; packing
    /// slips: only the lines and quantities in that parcel).
    pub shipment_ids: Option<Vec<ID>>,
    /// The paper: `A4` or `LETTER` for invoices and pick lists, `LABEL_4X6` or `A6` for
    /// labels, any of them for packing slips. Default: the template's.
    pub paper_size: Option<PaperSize>,
    /// Labels of orders only: carrier, service and tracking number per order.
    pub shipping: Option<Vec<DocumentShippingInput>>,
    /// `BATCH` only, instead of orders or shipments: the batch (`createBatch`) whose parcels
    /// print, each packing slip followed by its label, in the batch's order.
    pub batch_id: Option<ID>,
}

/// The invoice number of an order.
#[derive(SimpleObject)]
pub struct InvoiceNumber {
    /// Global id of the order.
    pub order_id: ID,
    /// The invoice number, sequential per store, assigned once and never changed.
    pub number: String,
    /// The invoice date (when the number was assigned).
    pub issued_at: DateTime<Utc>,
}

/// A short-lived download link.
#[derive(SimpleObject)]
pub struct DocumentLink {
    /// Path of the download, relative to this server's origin (e.g.
    /// `/documents/links/v1.…`); a plain `GET` without a token downloads the PDF.
    pub url: String,
    /// The file name the download carries.
    pub file_name: String,
    /// When the link stops working (15 minutes after it was made).
    pub expires_at: DateTime<Utc>,
    /// Invoices, labels, a pick list, packing slips, or a batch's parcels.
    pub kind: DocumentKind,
    /// The paper it prints on; null: the template's.
    pub paper_size: Option<PaperSize>,
    /// How many orders it names (0 for a link to shipments' labels).
    pub order_count: i32,
    /// How many shipments it names (0 for a link to orders' documents).
    pub shipment_count: i32,
    /// Invoice links: each order's invoice number (assigned now if it had none).
    pub invoices: Vec<InvoiceNumber>,
}

impl From<CreatedLink> for DocumentLink {
    fn from(l: CreatedLink) -> Self {
        Self {
            url: l.url,
            file_name: l.file_name,
            expires_at: l.expires_at,
            kind: l.request.kind,
            paper_size: l.request.paper,
            order_count: i32::try_from(l.request.order_ids.len()).unwrap_or(i32::MAX),
            shipment_count: i32::try_from(l.request.shipment_ids.len()).unwrap_or(i32::MAX),
            invoices: l
                .invoices
                .into_iter()
                .map(|i| InvoiceNumber {
                    order_id: ids::encode("Order", i.order_id),
                    number: i.number,
                    issued_at: i.issued_at,
                })
                .collect(),
        }
    }
}

/// The outcome of `createDocumentLink`.
#[derive(SimpleObject)]
pub struct CreateDocumentLinkPayload {
    /// The link; null when there are user errors.
    pub link: Option<DocumentLink>,
    /// Why no link was made.
    pub user_errors: Vec<UserError>,
}

fn not_found(field: &str) -> UserError {
    UserError::new(
        field,
        UserErrorCode::NotFound,
        "No such order in your account.",
    )
}

fn decoded(kind: &str, gids: Option<Vec<ID>>) -> Option<Vec<i64>> {
    gids.unwrap_or_default()
        .iter()
        .map(|id| ids::decode(kind, id))
        .collect()
}

/// The ids of the orders `filter` matches, oldest first; a user error when it matches none or
/// more than one document holds.
pub(super) async fn filtered(
    st: &crate::state::AppState,
    p: &crate::services::Principal,
    filter: super::orders::OrderFilterInput,
) -> crate::error::AppResult<Vec<i64>> {
    use crate::services::order_queries::{self, OrderSort};
    let page = order_queries::list(
        st,
        p,
        &filter.into_filter(),
        OrderSort::OldestFirst,
        service::MAX_ORDERS as u64,
        None,
        false,
    )
    .await?;
    if page.has_next_page {
        Err(UserError::new(
            "orderFilter",
            UserErrorCode::Invalid,
            format!(
                "The filter matches more than {} orders; narrow it (stores, statuses, dates).",
                service::MAX_ORDERS
            ),
        )
        .into())
    } else if page.items.is_empty() {
        Err(UserError::new(
            "orderFilter",
            UserErrorCode::NotFound,
            "No order matches the filter.",
        )
        .into())
    } else {
        Ok(page.items.iter().map(|o| o.id).collect())
    }
}

/// Document mutations.
#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// A signed link, valid for 15 minutes, that downloads the invoices, labels, pick list or
    /// packing slips of the given orders (by ids or by a filter), or the labels or packing
    /// slips of the given shipments, as one PDF. Invoice numbers are assigned now for orders
    /// that have none. `NOT_FOUND` on `orderIds` (`shipmentIds`) when an order (a shipment) is
    /// missing or another account's, on `orderFilter` when the filter matches no order;
    /// `REQUIRED`, `INVALID` (too many orders or shipments, a filter matching more than 500,
    /// more than one way of naming orders, shipments on invoices or pick lists, paper of
    /// another kind, shipping details on anything but order labels, on shipments or for other
    /// orders, a tracking number that cannot be a barcode) or `TOO_LONG`.
    async fn create_document_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to download.")] input: CreateDocumentLinkInput,
    ) -> async_graphql::Result<CreateDocumentLinkPayload> {
        let (p, allowed) = acting(ctx, Permission::PrintDocuments)?;
        let checked = allowed.and(text::plain(&input));
        let st = state(ctx)?;
        let both = input.order_filter.is_some()
            && (input.order_ids.is_some() || input.shipment_ids.is_some());
        let order_filter = input.order_filter;
        let order_ids = decoded("Order", input.order_ids);
        let batch_id = input
            .batch_id
            .as_ref()
            .map(|id| ids::decode("Batch", id).unwrap_or(0));
        let shipment_ids = decoded("Shipment", input.shipment_ids);
        let shipping: Option<Vec<(i64, Shipping)>> = input
            .shipping
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                ids::decode("Order", &s.order_id).map(|id| {
                    (
                        id,
                        Shipping {
                            carrier: s.carrier,
                            service: s.service,
                            tracking_number: s.tracking_number,
                        },
                    )
                })
            })
            .collect();
        let result = text::then(checked, async move {
            let order_ids = match order_filter {
                _ if both => {
                    return Err(UserError::new(
                        "orderFilter",
                        UserErrorCode::Invalid,
                        "Name orders by ids, by a filter, or shipments: one of them.",
                    )
                    .into())
                }
                Some(filter) => Some(filtered(st, &p, filter).await?),
                None => order_ids,
            };
            match (order_ids, shipment_ids, shipping) {
                (None, _, _) => Err(not_found("orderIds").into()),
                (_, None, _) => Err(UserError::new(
                    "shipmentIds",
                    UserErrorCode::NotFound,
                    "No such shipment in your account.",
                )
                .into()),
                (_, _, None) => Err(not_found("shipping.orderId").into()),
                (Some(order_ids), Some(shipment_ids), Some(shipping)) => {
                    let request = DocumentRequest {
                        kind: input.kind,
                        order_ids,
                        shipment_ids,
                        paper: input.paper_size,
                        shipping,
                        batch_id,
                    };
                    service::create_link(st, &p, request).await
                }
            }
        })
        .await;
        let (link, user_errors) = into_payload(result)?;
        if let Some(l) = &link {
            let r = &l.request;
            let target = match (r.order_ids.as_slice(), r.shipment_ids.as_slice()) {
                _ if r.batch_id.is_some() => r.batch_id.map(|b| ids::encode("Batch", b).0),
                ([one], []) => Some(ids::encode("Order", *one).0),
                ([], [one]) => Some(ids::encode("Shipment", *one).0),
                _ => None,
            };
            let summary = format!(
                "{:?} for {} order(s) and {} shipment(s)",
                r.kind,
                r.order_ids.len(),
                r.shipment_ids.len()
            );
            audit::record(ctx, &p, AuditAction::CreateDocumentLink, target, summary).await;
        }
        Ok(CreateDocumentLinkPayload {
            link: link.map(DocumentLink::from),
            user_errors,
        })
    }
}
