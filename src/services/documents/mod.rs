//! Invoices, labels, pick lists and packing slips of orders, and labels and packing slips of
//! shipments (docs/rules.md §7): the request and its rules, the data gathered from the database
//! in a few queries whatever the number of orders or shipments, invoice numbers, signed links,
//! and rendering off the async executor.

pub(crate) mod build;
pub(crate) mod invoices;
pub mod links;
pub mod picking;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

pub use build::Shipping;

use super::{blocking, Principal};
use crate::entities::{
    integration, integration_logo, invoice, order, order_line, shipment, shipment_line,
};
use crate::error::{ensure_valid, AppResult, UserError, UserErrorCode as Code};
use crate::pdf::{
    check_tracking_number, DocumentKind, Logo, PaperSize, RenderError, Rendered, Renderer,
};
use crate::state::AppState;

/// Most orders in one document.
pub const MAX_ORDERS: usize = 500;
/// Longest carrier or service name.
pub const MAX_NAME_LEN: usize = 100;

/// What to render: a kind of document for some orders (or, for labels, some shipments) of the
/// caller's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRequest {
    /// Invoices or labels.
    #[serde(rename = "k")]
    pub kind: DocumentKind,
    /// Order row ids, in the order their pages come (empty when shipments are named).
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub order_ids: Vec<i64>,
    /// Shipment row ids (labels only), one page each in this order; a request names orders
    /// or shipments, never both.
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    pub shipment_ids: Vec<i64>,
    /// The paper; `None`: the template's.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperSize>,
    /// Carrier and tracking per order (labels only).
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub shipping: Vec<(i64, Shipping)>,
    /// The batch (batch documents only, which name nothing else).
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<i64>,
}

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl DocumentRequest {
    /// Checks the request and normalises it (duplicate orders dropped, blanks removed).
    pub fn validated(mut self) -> AppResult<Self> {
        if self.kind == DocumentKind::Batch || self.batch_id.is_some() {
            return self.validated_batch();
        }
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.order_ids.retain(|id| seen.insert(*id));
        let mut seen_shipments = std::collections::HashSet::new();
        self.shipment_ids.retain(|id| seen_shipments.insert(*id));
        let by_shipment = !self.shipment_ids.is_empty();
        if by_shipment && matches!(self.kind, DocumentKind::Invoice | DocumentKind::PickList) {
            errors.push(UserError::new(
                "shipmentIds",
                Code::Invalid,
                "Invoices and pick lists are made for orders: name the orders.",
            ));
        } else if by_shipment && !self.order_ids.is_empty() {
            errors.push(UserError::new(
                "shipmentIds",
                Code::Invalid,
                "Name orders or shipments, not both.",
            ));
        } else if !by_shipment && self.order_ids.is_empty() {
            errors.push(UserError::new(
                "orderIds",
                Code::Required,
                match self.kind {
                    DocumentKind::Label | DocumentKind::PackingSlip => {
                        "Give at least one order or shipment."
                    }
                    _ => "Give at least one order.",
                },
            ));
        }
        for (field, count, what) in [
            ("orderIds", self.order_ids.len(), "orders"),
            ("shipmentIds", self.shipment_ids.len(), "shipments"),
        ] {
            if count > MAX_ORDERS {
                errors.push(UserError::new(
                    field,
                    Code::Invalid,
                    format!("At most {MAX_ORDERS} {what} fit one document."),
                ));
            }
        }
        if let Some(paper) = self.paper {
            let fits = match self.kind {
                DocumentKind::Invoice | DocumentKind::PickList => paper.fits_invoices(),
                DocumentKind::Label => paper.fits_labels(),
                DocumentKind::PackingSlip | DocumentKind::Batch => true,
            };
            if !fits {
                errors.push(UserError::new(
                    "paperSize",
                    Code::Invalid,
                    match self.kind {
                        DocumentKind::PickList => "Pick lists print on A4 or LETTER.",
                        DocumentKind::Label => "Labels print on LABEL_4X6 or A6.",
                        _ => "Invoices print on A4 or LETTER.",
                    },
                ));
            }
        }
        if self.kind != DocumentKind::Label && !self.shipping.is_empty() {
            errors.push(UserError::new(
                "shipping",
                Code::Invalid,
                "Carrier and tracking details belong to labels only.",
            ));
        }
        if by_shipment && !self.shipping.is_empty() {
            // A shipment's label prints what the shipment recorded, nothing typed in now.
            errors.push(UserError::new(
                "shipping",
                Code::Invalid,
                "Shipment labels take carrier and tracking from the shipments.",
            ));
            self.shipping.clear();
        }
        let mut shipped = std::collections::HashSet::new();
        for (order_id, s) in &mut self.shipping {
            if !seen.contains(order_id) || !shipped.insert(*order_id) {
                errors.push(UserError::new(
                    "shipping.orderId",
                    Code::Invalid,
                    "Give shipping details once per order, for orders of this document only.",
                ));
            }
            s.carrier = trimmed(s.carrier.take());
            s.service = trimmed(s.service.take());
            s.tracking_number = trimmed(s.tracking_number.take());
            for (field, value) in [("carrier", &s.carrier), ("service", &s.service)] {
                if value
                    .as_ref()
                    .is_some_and(|v| v.chars().count() > MAX_NAME_LEN)
                {
                    errors.push(UserError::new(
                        &format!("shipping.{field}"),
                        Code::TooLong,
                        format!("At most {MAX_NAME_LEN} characters."),
                    ));
                }
            }
            if let Some(Err(e)) = s.tracking_number.as_deref().map(check_tracking_number) {
                errors.push(UserError::new(
                    "shipping.trackingNumber",
                    Code::Invalid,
                    format!("{}.", capitalised(&e.to_string())),
                ));
            }
        }
        ensure_valid(errors)?;
        Ok(self)
    }
}

impl DocumentRequest {
    /// A batch's document names the batch and nothing else.
    fn validated_batch(self) -> AppResult<Self> {
        let mut errors = Vec::new();
        if self.kind != DocumentKind::Batch {
            errors.push(UserError::new(
                "batchId",
                Code::Invalid,
                "A batch prints as kind BATCH.",
            ));
        } else if self.batch_id.is_none() {
            errors.push(UserError::new("batchId", Code::Required, "Name the batch."));
        }
        if !self.order_ids.is_empty() || !self.shipment_ids.is_empty() || !self.shipping.is_empty()
        {
            errors.push(UserError::new(
                "batchId",
                Code::Invalid,
                "A batch's document names the batch only: its parcels come from the batch.",
            ));
        }
        if self.paper.is_some() {
            errors.push(UserError::new(
                "paperSize",
                Code::Invalid,
                "A batch prints packing slips and labels each on its template's paper.",
            ));
        }
        ensure_valid(errors)?;
        Ok(self)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A rendered document ready to download.
#[derive(Debug)]
pub struct RenderedDocument {
    /// The PDF.
    pub bytes: Vec<u8>,
    /// A sensible file name.
    pub file_name: String,
    /// Its pages.
    pub pages: usize,
}

/// The orders of `ids` in the account, in the order of `ids`; `None` when any is missing.
async fn orders(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Option<Vec<order::Model>>> {
    let mut found: HashMap<i64, order::Model> = order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .filter(order::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(ids.iter().map(|id| found.remove(id)).collect())
}

/// The shipments of `ids` in the account, in the order of `ids`; `None` when any is missing.
async fn shipments(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Option<Vec<shipment::Model>>> {
    let mut found: HashMap<i64, shipment::Model> = shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(account_id))
        .filter(shipment::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(ids.iter().map(|id| found.remove(id)).collect())
}

/// The stores of `store_ids` in the account and their stored logos.
async fn branding(
    state: &AppState,
    account_id: i64,
    store_ids: &[i64],
) -> AppResult<(
    HashMap<i64, integration::Model>,
    Vec<integration_logo::Model>,
)> {
    let stores = integration::Entity::find()
        .filter(integration::Column::AccountId.eq(account_id))
        .filter(integration::Column::Id.is_in(store_ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let logos = integration_logo::Entity::find()
        .filter(integration_logo::Column::AccountId.eq(account_id))
        .filter(integration_logo::Column::IntegrationId.is_in(store_ids.iter().copied()))
        .all(&state.db)
        .await?;
    Ok((stores, logos))
}

/// The stored logos ready for PDFs, by store; one that does not decode is left out (logged).
/// CPU-bound: call off the async executor.
fn decoded_logos(
    renderer: &Renderer,
    logos: Vec<integration_logo::Model>,
) -> HashMap<i64, Arc<Logo>> {
    logos
        .into_iter()
        .filter_map(|l| match renderer.logo(&l.sha256, &l.data) {
            Ok(logo) => Some((l.integration_id, logo)),
            Err(e) => {
                tracing::error!(integration_id = l.integration_id, error = %e, "stored logo does not decode; left out");
                None
            }
        })
        .collect()
}

fn safe_file_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    cleaned.trim_matches('-').to_string()
}

/// The download's file name.
pub fn file_name(
    kind: DocumentKind,
    orders: &[order::Model],
    numbers: &HashMap<i64, invoice::Model>,
) -> String {
    match (kind, orders) {
        (DocumentKind::Invoice, [one]) => {
            let n = numbers
                .get(&one.id)
                .map_or(one.number.as_str(), |i| &i.number);
            format!("invoice-{}.pdf", safe_file_part(n))
        }
        (DocumentKind::Label, [one]) => format!("label-order-{}.pdf", safe_file_part(&one.number)),
        (DocumentKind::Invoice, many) => format!("invoices-{}-orders.pdf", many.len()),
        (DocumentKind::Label, many) => format!("labels-{}-orders.pdf", many.len()),
        (DocumentKind::PickList, many) => format!("pick-list-{}-orders.pdf", many.len()),
        (DocumentKind::PackingSlip, [one]) => {
            format!("packing-slip-order-{}.pdf", safe_file_part(&one.number))
        }
        (DocumentKind::PackingSlip, many) => format!("packing-slips-{}-orders.pdf", many.len()),
        (DocumentKind::Batch, many) => format!("batch-{}-orders.pdf", many.len()),
    }
}

/// The file name of shipments' labels (packing slips): `label-shipment-<tracking number>.pdf`
/// for one (its id when it has no tracking number), `labels-<n>-shipments.pdf` for several.
pub fn shipment_file_name(kind: DocumentKind, shipments: &[shipment::Model]) -> String {
    let what = if kind == DocumentKind::PackingSlip {
        ("packing-slip", "packing-slips")
    } else {
        ("label", "labels")
    };
    match shipments {
        [one] => {
            let tracking = safe_file_part(&one.tracking_number);
            if tracking.is_empty() {
                format!("{}-shipment-{}.pdf", what.0, one.id)
            } else {
                format!("{}-shipment-{tracking}.pdf", what.0)
            }
        }
        many => format!("{}-{}-shipments.pdf", what.1, many.len()),
    }
}

fn rendered_document(
    rendered: Result<Rendered, RenderError>,
    file_name: String,
) -> AppResult<RenderedDocument> {
    let rendered = rendered.map_err(|e| anyhow::anyhow!("rendering a document: {e}"))?;
    if !rendered.warnings.is_empty() {
        tracing::warn!(warnings = ?rendered.warnings, "printpdf reported problems");
    }
    Ok(RenderedDocument {
        bytes: rendered.bytes,
        file_name,
        pages: rendered.pages,
    })
}

/// Renders a validated request for the caller's account; `None` when an order or shipment is
/// missing or belongs to another account.
pub async fn render(
    state: &AppState,
    account_id: i64,
    request: &DocumentRequest,
) -> AppResult<Option<RenderedDocument>> {
    if let Some(batch_id) = request.batch_id {
        return render_batch(state, account_id, batch_id).await;
    }
    if !request.shipment_ids.is_empty() {
        return render_shipments(state, account_id, request).await;
    }
    let Some(orders) = orders(state, account_id, &request.order_ids).await? else {
        return Ok(None);
    };
    if request.kind == DocumentKind::PickList {
        let (lines, items, components) = picking::rows(state, account_id, &orders).await?;
        let file_name = file_name(request.kind, &orders, &HashMap::new());
        let pngs = if state.documents.picklist_thumbnails() {
            let urls = items.values().filter_map(|i| i.image_url.clone());
            crate::services::thumbnails::for_urls(state, account_id, urls).await?
        } else {
            HashMap::new()
        };
        let renderer = Arc::clone(&state.documents);
        let paper = request.paper;
        let rendered = blocking(move || {
            let pictures = picking::pictures(&renderer, &items, &pngs);
            let list = picking::build(&orders, &lines, &items, &components, &pictures, Utc::now());
            renderer.pick_list(&list, paper)
        })
        .await?;
        return rendered_document(rendered, file_name).map(Some);
    }
    if request.kind == DocumentKind::PackingSlip {
        let file_name = file_name(request.kind, &orders, &HashMap::new());
        let parcels = parcels(state, account_id, orders).await?;
        let rendered = render_packing_slips(state, account_id, parcels, request.paper).await?;
        return rendered_document(rendered, file_name).map(Some);
    }
    let lines = lines_of(state, account_id, orders.iter().map(|o| o.id)).await?;
    let store_ids: Vec<i64> = orders.iter().map(|o| o.integration_id).collect();
    let (stores, logos) = branding(state, account_id, &store_ids).await?;
    let numbers = match request.kind {
        DocumentKind::Invoice => {
            invoices::assign(state, account_id, &orders, state.documents.numbering()).await?
        }
        _ => HashMap::new(),
    };
    let file_name = file_name(request.kind, &orders, &numbers);
    let renderer = Arc::clone(&state.documents);
    let request = request.clone();
    let rendered = blocking(move || {
        let logos = decoded_logos(&renderer, logos);
        let shipping: HashMap<i64, Shipping> = request.shipping.into_iter().collect();
        let empty = Vec::new();
        let no_shipping = Shipping::default();
        let parts = orders.iter().filter_map(|o| {
            let store = stores.get(&o.integration_id)?;
            let logo = logos.get(&o.integration_id).cloned();
            Some((o, lines.get(&o.id).unwrap_or(&empty), store, logo))
        });
        match request.kind {
            DocumentKind::Invoice => {
                let docs: Vec<_> = parts
                    .filter_map(|(o, l, s, logo)| {
                        numbers.get(&o.id).map(|n| build::invoice(o, l, s, logo, n))
                    })
                    .collect();
                renderer.invoices(&docs, request.paper)
            }
            DocumentKind::Label => {
                let docs: Vec<_> = parts
                    .map(|(o, l, s, logo)| {
                        let ship = shipping.get(&o.id).unwrap_or(&no_shipping);
                        build::label(o, l, s, logo, ship)
                    })
                    .collect();
                renderer.labels(&docs, request.paper)
            }
            // Rendered above.
            DocumentKind::PickList | DocumentKind::PackingSlip | DocumentKind::Batch => {
                Err(RenderError::Empty)
            }
        }
    })
    .await?;
    rendered_document(rendered, file_name).map(Some)
}

/// The lines of these orders (of the account), by order, in id order.
async fn lines_of(
    state: &AppState,
    account_id: i64,
    order_ids: impl Iterator<Item = i64>,
) -> AppResult<HashMap<i64, Vec<order_line::Model>>> {
    let mut lines: HashMap<i64, Vec<order_line::Model>> = HashMap::new();
    for line in order_line::Entity::find()
        .filter(order_line::Column::AccountId.eq(account_id))
        .filter(order_line::Column::OrderId.is_in(order_ids))
        .order_by_asc(order_line::Column::Id)
        .all(&state.db)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    Ok(lines)
}

/// The parcels `orders` make, in their order: an order alone, or every order of its merge
/// (oldest first) at the place of the first of them named.
pub async fn parcels(
    state: &AppState,
    account_id: i64,
    orders: Vec<order::Model>,
) -> AppResult<Vec<Vec<order::Model>>> {
    let merge_ids: Vec<i64> = orders.iter().filter_map(|o| o.merge_id).collect();
    let mut merged =
        crate::services::merges::orders_of_merges(&state.db, account_id, &merge_ids).await?;
    let mut out = Vec::with_capacity(orders.len());
    for o in orders {
        match o.merge_id {
            Some(m) => {
                if let Some(all) = merged.remove(&m) {
                    out.push(all);
                }
            }
            None => out.push(vec![o]),
        }
    }
    Ok(out)
}

/// One packing slip per parcel (in their order) in one PDF, rendered off the executor.
pub async fn render_packing_slips(
    state: &AppState,
    account_id: i64,
    parcels: Vec<Vec<order::Model>>,
    paper: Option<PaperSize>,
) -> AppResult<Result<Rendered, RenderError>> {
    let lines = lines_of(state, account_id, parcels.iter().flatten().map(|o| o.id)).await?;
    let store_ids: Vec<i64> = parcels.iter().flatten().map(|o| o.integration_id).collect();
    let (stores, logos) = branding(state, account_id, &store_ids).await?;
    let renderer = Arc::clone(&state.documents);
    Ok(blocking(move || {
        let logos = decoded_logos(&renderer, logos);
        let empty = Vec::new();
        let docs: Vec<_> = parcels
            .iter()
            .filter_map(|parcel| {
                let first = parcel.first()?;
                let store = stores.get(&first.integration_id)?;
                let with_lines: Vec<(&order::Model, &[order_line::Model])> = parcel
                    .iter()
                    .map(|o| (o, lines.get(&o.id).unwrap_or(&empty).as_slice()))
                    .collect();
                let logo = logos.get(&first.integration_id).cloned();
                Some(build::packing_slip(&with_lines, store, logo))
            })
            .collect();
        renderer.packing_slips(&docs, paper)
    })
    .await?)
}

/// The order numbers each of `orders` ships with: its merge's (oldest first), or its own.
async fn parcel_numbers(
    state: &AppState,
    account_id: i64,
    orders: &HashMap<i64, order::Model>,
) -> AppResult<HashMap<i64, Vec<String>>> {
    let merge_ids: Vec<i64> = orders.values().filter_map(|o| o.merge_id).collect();
    let merged =
        crate::services::merges::orders_of_merges(&state.db, account_id, &merge_ids).await?;
    Ok(orders
        .values()
        .map(|o| {
            let numbers = o.merge_id.and_then(|m| merged.get(&m)).map_or_else(
                || vec![o.number.clone()],
                |all| all.iter().map(|x| x.number.clone()).collect(),
            );
            (o.id, numbers)
        })
        .collect())
}

/// The file name of a batch's document.
pub fn batch_file_name(batch_id: i64) -> String {
    format!("batch-{batch_id}.pdf")
}

/// A batch's document: each parcel's packing slip (what the parcel's shipments carry: those of
/// its orders with its tracking number) followed by its label, in the batch's order. `None`
/// when the batch is missing or nothing of it shipped.
async fn render_batch(
    state: &AppState,
    account_id: i64,
    batch_id: i64,
) -> AppResult<Option<RenderedDocument>> {
    use crate::services::batches;
    let Some(b) = batches::get(state, account_id, batch_id).await? else {
        return Ok(None);
    };
    let parcels = batches::parcels(state, &b).await?;
    if parcels.is_empty() {
        return Ok(None);
    }
    let order_ids: Vec<i64> = parcels
        .iter()
        .flat_map(|(o, _)| o.iter().map(|x| x.id))
        .collect();
    // Every shipment of the parcels' orders with their parcel's tracking number.
    let tracking: HashMap<i64, &str> = parcels
        .iter()
        .flat_map(|(orders, s)| {
            orders
                .iter()
                .map(move |o| (o.id, s.tracking_number.as_str()))
        })
        .collect();
    let siblings: Vec<shipment::Model> = shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(account_id))
        .filter(shipment::Column::OrderId.is_in(order_ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|s| tracking.get(&s.order_id) == Some(&s.tracking_number.as_str()))
        .collect();
    let (lines, carried) = parcel_rows(state, account_id, &siblings).await?;
    let store_ids: Vec<i64> = parcels.iter().map(|(o, _)| o[0].integration_id).collect();
    let (stores, logos) = branding(state, account_id, &store_ids).await?;
    let renderer = Arc::clone(&state.documents);
    let rendered = blocking(move || {
        let logos = decoded_logos(&renderer, logos);
        let docs: Vec<_> = parcels
            .iter()
            .filter_map(|(orders, label_shipment)| {
                let first = &orders[0];
                let store = stores.get(&first.integration_id)?;
                let logo = logos.get(&first.integration_id).cloned();
                let numbers: Vec<String> = orders.iter().map(|o| o.number.clone()).collect();
                let all_lines: Vec<order_line::Model> = orders
                    .iter()
                    .flat_map(|o| lines.get(&o.id).cloned().unwrap_or_default())
                    .collect();
                let all_carried: Vec<shipment_line::Model> = siblings
                    .iter()
                    .filter(|s| orders.iter().any(|o| o.id == s.order_id))
                    .flat_map(|s| carried.get(&s.id).cloned().unwrap_or_default())
                    .collect();
                let slip = build::shipment_packing_slip(
                    first,
                    numbers.clone(),
                    &all_lines,
                    store,
                    logo.clone(),
                    label_shipment,
                    &all_carried,
                );
                let label = build::shipment_label(first, &numbers, store, logo, label_shipment);
                Some((slip, label))
            })
            .collect();
        renderer.batch(&docs)
    })
    .await?;
    rendered_document(rendered, batch_file_name(batch_id)).map(Some)
}

/// One label (packing slip) per shipment of the request, in its order.
async fn render_shipments(
    state: &AppState,
    account_id: i64,
    request: &DocumentRequest,
) -> AppResult<Option<RenderedDocument>> {
    let Some(shipments) = shipments(state, account_id, &request.shipment_ids).await? else {
        return Ok(None);
    };
    let orders: HashMap<i64, order::Model> = order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .filter(order::Column::Id.is_in(shipments.iter().map(|s| s.order_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let store_ids: Vec<i64> = orders.values().map(|o| o.integration_id).collect();
    let (stores, logos) = branding(state, account_id, &store_ids).await?;
    let missing = shipments.iter().any(|s| {
        orders
            .get(&s.order_id)
            .is_none_or(|o| !stores.contains_key(&o.integration_id))
    });
    if missing {
        // Shipments keep their order and store; a gap is a bug, not the caller's mistake.
        tracing::error!(
            shipment_ids = ?request.shipment_ids,
            "a shipment's order or store is missing"
        );
        return Ok(None);
    }
    let file_name = shipment_file_name(request.kind, &shipments);
    let numbers = parcel_numbers(state, account_id, &orders).await?;
    let (lines, carried) = if request.kind == DocumentKind::PackingSlip {
        parcel_rows(state, account_id, &shipments).await?
    } else {
        (HashMap::new(), HashMap::new())
    };
    let renderer = Arc::clone(&state.documents);
    let (kind, paper) = (request.kind, request.paper);
    let rendered = blocking(move || {
        let logos = decoded_logos(&renderer, logos);
        let parts = shipments.iter().filter_map(|s| {
            let o = orders.get(&s.order_id)?;
            let store = stores.get(&o.integration_id)?;
            Some((s, o, store, logos.get(&o.integration_id).cloned()))
        });
        if kind == DocumentKind::PackingSlip {
            let empty = (Vec::new(), Vec::new());
            let docs: Vec<_> = parts
                .map(|(s, o, store, logo)| {
                    let l = lines.get(&o.id).unwrap_or(&empty.0);
                    let c = carried.get(&s.id).unwrap_or(&empty.1);
                    let n = numbers.get(&o.id).cloned().unwrap_or_default();
                    build::shipment_packing_slip(o, n, l, store, logo, s, c)
                })
                .collect();
            renderer.packing_slips(&docs, paper)
        } else {
            let docs: Vec<_> = parts
                .map(|(s, o, store, logo)| {
                    let n = numbers.get(&o.id).map_or(&[][..], Vec::as_slice);
                    build::shipment_label(o, n, store, logo, s)
                })
                .collect();
            renderer.labels(&docs, paper)
        }
    })
    .await?;
    rendered_document(rendered, file_name).map(Some)
}

/// What the shipments' packing slips read: their orders' lines (by order) and the lines each
/// shipment carries (by shipment).
async fn parcel_rows(
    state: &AppState,
    account_id: i64,
    shipments: &[shipment::Model],
) -> AppResult<(
    HashMap<i64, Vec<order_line::Model>>,
    HashMap<i64, Vec<shipment_line::Model>>,
)> {
    let mut lines: HashMap<i64, Vec<order_line::Model>> = HashMap::new();
    for l in order_line::Entity::find()
        .filter(order_line::Column::AccountId.eq(account_id))
        .filter(order_line::Column::OrderId.is_in(shipments.iter().map(|s| s.order_id)))
        .order_by_asc(order_line::Column::Id)
        .all(&state.db)
        .await?
    {
        lines.entry(l.order_id).or_default().push(l);
    }
    let mut carried: HashMap<i64, Vec<shipment_line::Model>> = HashMap::new();
    for l in shipment_line::Entity::find()
        .filter(shipment_line::Column::AccountId.eq(account_id))
        .filter(shipment_line::Column::ShipmentId.is_in(shipments.iter().map(|s| s.id)))
        .order_by_asc(shipment_line::Column::Id)
        .all(&state.db)
        .await?
    {
        carried.entry(l.shipment_id).or_default().push(l);
    }
    Ok((lines, carried))
}

/// A download link handed out by `createDocumentLink`.
#[derive(Debug, Clone)]
pub struct CreatedLink {
    /// Path of the download, relative to the server's origin.
    pub url: String,
    /// The file name the download will carry.
    pub file_name: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The validated request it carries.
    pub request: DocumentRequest,
    /// The invoices (invoice links), in the order of the orders.
    pub invoices: Vec<invoice::Model>,
}

/// Checks the request against the caller's account, numbers invoices now (so the link's
/// document is fixed), and signs a link valid for [`links::LINK_TTL`].
pub async fn create_link(
    state: &AppState,
    p: &Principal,
    request: DocumentRequest,
) -> AppResult<CreatedLink> {
    let request = request.validated()?;
    let (file_name, invoices) = if let Some(batch_id) = request.batch_id {
        let printable = crate::services::batches::get(state, p.account_id, batch_id)
            .await?
            .ok_or_else(|| {
                UserError::new("batchId", Code::NotFound, "No such batch in your account.")
            })?
            .orders
            .iter()
            .any(|o| o.shipment_id.is_some());
        if !printable {
            return Err(UserError::new(
                "batchId",
                Code::NothingToShip,
                "Nothing of this batch shipped: it has no parcel to print.",
            )
            .into());
        }
        (batch_file_name(batch_id), Vec::new())
    } else if request.shipment_ids.is_empty() {
        let orders = orders(state, p.account_id, &request.order_ids)
            .await?
            .ok_or_else(|| {
                UserError::new("orderIds", Code::NotFound, "No such order in your account.")
            })?;
        let numbers = match request.kind {
            DocumentKind::Invoice => {
                invoices::assign(state, p.account_id, &orders, state.documents.numbering()).await?
            }
            _ => HashMap::new(),
        };
        (
            file_name(request.kind, &orders, &numbers),
            orders
                .iter()
                .filter_map(|o| numbers.get(&o.id).cloned())
                .collect(),
        )
    } else {
        let shipments = shipments(state, p.account_id, &request.shipment_ids)
            .await?
            .ok_or_else(|| {
                UserError::new(
                    "shipmentIds",
                    Code::NotFound,
                    "No such shipment in your account.",
                )
            })?;
        (shipment_file_name(request.kind, &shipments), Vec::new())
    };
    let expires_at = Utc::now() + links::LINK_TTL;
    let token = links::sign(&state.links, p.account_id, &request, expires_at)?;
    Ok(CreatedLink {
        url: format!("/documents/links/{token}"),
        file_name,
        expires_at,
        invoices,
        request,
    })
}
