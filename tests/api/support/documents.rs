//! Invoices and labels: a shop with every document option set, orders stored straight in the
//! database, document links and downloads, and the PDFs read back with poppler.

use std::process::Command;

use chrono::{TimeZone, Utc};
use orderdeck::domain::{ChannelShippingAddress, OrderAddress, OrderStatus, ShippingAddresses};
use orderdeck::entities::{order, order_line};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};

use super::app::TestApp;

pub const LINK: &str = "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) { link { url fileName expiresAt kind paperSize orderCount shipmentCount invoices { orderId number issuedAt } } userErrors { field code message } } }";

/// A store in London with every document option set (phone OVERWRITE, email PREFILL).
pub fn store_options(alias: &str) -> Value {
    json!({
        "alias": alias,
        "iossNumber": "IM2760000001",
        "returnAddress": {
            "name": "Returns dept.", "street1": "12 Example Street", "city": "London",
            "postalCode": "EC1A 1BB", "countryCode": "GB"
        },
        "phone": "+44 20 7946 0000",
        "phoneMode": "OVERWRITE",
        "email": "shop@example.com",
        "emailMode": "PREFILL",
    })
}

/// A connected account: (token, integration id, its global id).
pub async fn shop_with_options(
    app: &TestApp,
    email: &str,
    options: Value,
) -> (String, i64, String) {
    let (token, row) = app.connected_with(email, options).await;
    let gid = format!("gid://orderdeck/Integration/{}", row.id);
    (token, row.id, gid)
}

pub fn address(
    first: &str,
    last: &str,
    city: &str,
    postal: &str,
    code: &str,
    country: &str,
) -> OrderAddress {
    OrderAddress {
        first_name: first.into(),
        last_name: last.into(),
        street1: "ul. Piotrkowska 104".into(),
        city: city.into(),
        postal_code: postal.into(),
        country_code: code.into(),
        country: country.into(),
        email: format!("{}@example.com", first.to_lowercase()),
        ..Default::default()
    }
}

/// Stores an order of integration `integration_id` straight in the database (as the import
/// would), billed to a Pole and shipped to `ship_to`, with `lines` lines; its row id.
pub async fn order_with(
    app: &TestApp,
    integration_id: i64,
    number: &str,
    ship_to: OrderAddress,
    lines: usize,
) -> i64 {
    let account_id = orderdeck::entities::integration::Entity::find_by_id(integration_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .account_id;
    let billing = address("Łukasz", "Żółć", "Łódź", "90-001", "PL", "Poland");
    let now = Utc::now();
    let placed = Utc.with_ymd_and_hms(2026, 11, 27, 18, 30, 0).unwrap();
    let row = order::ActiveModel {
        account_id: Set(account_id),
        integration_id: Set(integration_id),
        external_id: Set(number.parse().unwrap()),
        number: Set(number.into()),
        status: Set(OrderStatus::New),
        channel_status_id: Set(11),
        channel_status: Set("Awaiting Fulfillment".into()),
        currency: Set("EUR".into()),
        subtotal_ex_tax: Set("50.00".parse().unwrap()),
        subtotal_inc_tax: Set("59.50".parse().unwrap()),
        shipping_cost: Set("9.90".parse().unwrap()),
        tax_total: Set("9.50".parse().unwrap()),
        total: Set("69.40".parse().unwrap()),
        customer_name: Set("Łukasz Żółć".into()),
        customer_email: Set(Some("lukasz@example.com".into())),
        customer_phone: Set(None),
        billing_address: Set(Some(billing)),
        shipping_addresses: Set(Some(ShippingAddresses(vec![ChannelShippingAddress {
            external_id: 1,
            address: ship_to,
            shipping_method: "Tracked".into(),
        }]))),
        placed_at: Set(placed),
        channel_modified_at: Set(placed),
        shipped_at: Set(None),
        historical: Set(false),
        stock_taken: Set(false),
        restocked: Set(false),
        imported_at: Set(now),
        updated_at: Set(now),
        canceled_here_at: Set(None),
        canceled_by_user_id: Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let names = [
        "Kubek „Żubr”",
        "Teetasse Größe M",
        "Κούπα καφέ",
        "Кружка «Матрёшка»",
    ];
    for i in 0..lines {
        order_line::ActiveModel {
            account_id: Set(account_id),
            order_id: Set(row.id),
            external_id: Set(i64::try_from(i).unwrap() + 1),
            external_product_id: Set(1),
            external_variant_id: Set(1),
            order_address_id: Set(1),
            sku: Set(Some(format!("MUG-{:03}", i + 1))),
            name: Set(format!("{} {}", names[i % 4], i + 1)),
            quantity: Set(2),
            quantity_shipped: Set(0),
            unit_price: Set("12.5000".parse().unwrap()),
            total: Set("29.7500".parse().unwrap()),
            weight: Set(Some("0.4000".parse().unwrap())),
            listing_id: Set(None),
            inventory_item_id: Set(None),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    row.id
}

/// An order shipped to Berlin (Germany: customs from the UK, IOSS applies).
pub async fn order_to_germany(app: &TestApp, integration_id: i64, number: &str) -> i64 {
    let to = address("Jürgen", "Großmann", "Berlin", "10115", "DE", "Germany");
    order_with(app, integration_id, number, to, 4).await
}

/// `createDocumentLink` with `input`; its payload.
pub async fn create_link(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(Some(token), LINK, json!({ "i": input })).await["createDocumentLink"].clone()
}

/// A GET of `path` (with the token, if any): (status, content type, disposition, body).
pub async fn get(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
) -> (StatusCode, String, String, Vec<u8>) {
    let mut req = app.http.get(format!("{}{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (status, kind, disposition) = (
        res.status(),
        header("content-type"),
        header("content-disposition"),
    );
    (
        status,
        kind,
        disposition,
        res.bytes().await.unwrap().to_vec(),
    )
}

/// Runs a poppler tool on a PDF; its output.
pub fn tool(bytes: &[u8], program: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, bytes).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args).arg(&file);
    if program == "pdftotext" {
        cmd.arg("-");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text of a PDF, whitespace squashed.
pub fn text(bytes: &[u8]) -> String {
    tool(bytes, "pdftotext", &["-enc", "UTF-8"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
