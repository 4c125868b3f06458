//! Invoices and labels (docs/rules.md §7) and shipments' labels through the
//! API: downloads with the bearer token and through signed links, invoice numbering, the
//! store's options on the documents, and the PDFs read back with poppler and zbar as a person
//! would see them.

use std::process::Command;

use chrono::{Duration, Utc};
use orderdeck::entities::order;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::support::{
    a_second_passes, address, codes, create_link, error_code, get, order_gid, order_to_germany,
    order_with, png, shop, shop_with_options, spawn_app, store_input, store_options, text, tool,
    upload_payload, Shop, TestApp, LINK,
};

/// The Code128 barcodes zbar reads on page 1 rendered at 300 dpi.
fn barcodes(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("label.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-gray",
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
        ])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(dir.path().join("page.png"))
        .output()
        .expect("zbarimg (zbar-tools)");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_pdf(kind: &str, disposition: &str, file: &str) {
    assert_eq!(kind, "application/pdf");
    assert!(
        disposition.starts_with("attachment")
            && disposition.contains(&format!("filename=\"{file}\"")),
        "{disposition}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_invoice_downloads_with_the_token_and_carries_the_stores_branding_and_the_order() {
    let app = spawn_app().await;
    let (token, store, gid) =
        shop_with_options(&app, "inv@example.com", store_options("Łódź Ceramics")).await;
    let logo = upload_payload(
        &app,
        &token,
        &gid,
        png(300, 100, 7),
        "logo.png",
        "image/png",
    )
    .await;
    assert_eq!(logo["userErrors"], json!([]), "{logo}");
    let id = order_to_germany(&app, store, "100234").await;

    let (status, kind, disposition, pdf) = get(
        &app,
        Some(&token),
        &format!("/documents/invoices.pdf?orders={id}"),
    )
    .await;

    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_pdf(&kind, &disposition, "invoice-INV-000001.pdf");
    let text = text(&pdf);
    for expected in [
        "Invoice",
        "Łódź Ceramics",
        "Returns dept.",
        "12 Example Street",
        "London",
        "EC1A 1BB",
        "Phone: +44 20 7946 0000",
        "Email: shop@example.com",
        "INV-000001",
        "100234",
        "2026-11-27",
        "Łukasz Żółć",
        "90-001 Łódź",
        "Jürgen Großmann",
        "10115 Berlin",
        "MUG-001",
        "Kubek „Żubr” 1",
        "Teetasse Größe M 2",
        "Κούπα καφέ 3",
        "Кружка «Матрёшка» 4",
        "12.50",
        "25.00",
        "50.00 EUR",
        "9.90 EUR",
        "9.50 EUR",
        "69.40 EUR",
        "IOSS number: IM2760000001",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    assert!(tool(&pdf, "pdfinfo", &[]).contains("595.276 x 841.89 pts (A4)"));
    let images = tool(&pdf, "pdfimages", &["-list"]);
    assert!(
        images
            .lines()
            .any(|l| l.contains(" image ") && l.contains(" 300 ") && l.contains(" 100 ")),
        "the logo: {images}"
    );
    assert!(tool(&pdf, "pdffonts", &[]).contains("DejaVuSans"));

    let (status, _, _, letter) = get(
        &app,
        Some(&token),
        &format!(
            "/documents/invoices.pdf?orders={}&paper=letter",
            order_gid(id)
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(tool(&letter, "pdfinfo", &[]).contains("612 x 792 pts (letter)"));
}

#[tokio::test]
async fn invoice_numbers_are_sequential_per_store_and_stay_when_rendered_again() {
    let app = TestApp::builder().sandbox(|s| s.stores = 2).spawn().await;
    let (token, first, _) =
        shop_with_options(&app, "numbers@example.com", store_options("First")).await;
    let second_store = app.sandbox.stores()[1].clone();
    let connected = app
        .data(
            Some(&token),
            "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { code } } }",
            json!({ "i": store_input(&second_store, json!({ "alias": "Second" })) }),
        )
        .await;
    let second: i64 = connected["connectBigCommerce"]["integration"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let a = order_to_germany(&app, first, "1001").await;
    let b = order_to_germany(&app, first, "1002").await;
    let c = order_to_germany(&app, first, "1003").await;
    let d = order_to_germany(&app, second, "2001").await;

    let link_b = create_link(
        &app,
        &token,
        json!({ "kind": "INVOICE", "orderIds": [order_gid(b)] }),
    )
    .await;
    let batch = create_link(
        &app,
        &token,
        json!({ "kind": "INVOICE", "orderIds": [order_gid(a), order_gid(d), order_gid(c), order_gid(b)] }),
    )
    .await;

    assert_eq!(link_b["userErrors"], json!([]), "{link_b}");
    assert_eq!(link_b["link"]["invoices"][0]["number"], "INV-000001");
    assert_eq!(link_b["link"]["fileName"], "invoice-INV-000001.pdf");
    let numbers: Vec<(String, String)> = batch["link"]["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["orderId"].as_str().unwrap().to_string(),
                i["number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        [
            (order_gid(a), "INV-000002".to_string()),
            (order_gid(d), "INV-000001".to_string()),
            (order_gid(c), "INV-000003".to_string()),
            (order_gid(b), "INV-000001".to_string()),
        ],
        "per store, in the requested order, B keeping its number"
    );
    assert_eq!(
        batch["link"]["invoices"][3]["issuedAt"],
        link_b["link"]["invoices"][0]["issuedAt"]
    );
    assert_eq!(app.rows("invoices").await, 4);

    // Rendering again (by link and by token) prints the same numbers and assigns none.
    let (status, _, disposition, pdf) =
        get(&app, None, batch["link"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        disposition.contains("invoices-4-orders.pdf"),
        "{disposition}"
    );
    assert_eq!(
        tool(&pdf, "pdfinfo", &[])
            .lines()
            .find(|l| l.starts_with("Pages:"))
            .unwrap()
            .split_whitespace()
            .last(),
        Some("4")
    );
    let (_, _, _, again) = get(
        &app,
        Some(&token),
        &format!("/documents/invoices.pdf?orders={b}"),
    )
    .await;
    assert!(text(&again).contains("INV-000001"));
    assert_eq!(app.rows("invoices").await, 4);
}

#[tokio::test]
async fn concurrent_invoice_requests_never_give_two_orders_one_number() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "race@example.com", store_options("Race")).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(order_to_germany(&app, store, &format!("{}", 3000 + n)).await);
    }
    let requests = ids.iter().map(|id| {
        let app = &app;
        let token = token.clone();
        async move {
            create_link(
                app,
                &token,
                json!({ "kind": "INVOICE", "orderIds": [order_gid(*id)] }),
            )
            .await
        }
    });

    let results = futures_util::future::join_all(requests).await;

    let mut numbers: Vec<String> = results
        .iter()
        .map(|r| {
            r["link"]["invoices"][0]["number"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=6).map(|n| format!("INV-{n:06}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_label_downloads_through_a_signed_link_with_the_tracking_barcode_and_the_contact_rule() {
    let app = spawn_app().await;
    let (token, store, gid) =
        shop_with_options(&app, "label@example.com", store_options("Łódź Ceramics")).await;
    upload_payload(&app, &token, &gid, png(120, 60, 3), "logo.png", "image/png").await;
    let to = address(
        "Αλέξανδρος",
        "Παπαδόπουλος",
        "Θεσσαλονίκη",
        "546 21",
        "GR",
        "Greece",
    );
    let id = order_with(&app, store, "100777", to, 2).await;

    let created = create_link(
        &app,
        &token,
        json!({
            "kind": "LABEL",
            "orderIds": [order_gid(id)],
            "shipping": [{ "orderId": order_gid(id), "carrier": "Royal Mail", "service": "International Tracked", "trackingNumber": " 1Z999AA10123456784 " }],
        }),
    )
    .await;

    assert_eq!(created["userErrors"], json!([]), "{created}");
    let link = &created["link"];
    assert_eq!(link["kind"], "LABEL");
    assert_eq!(link["orderCount"], 1);
    assert_eq!(link["invoices"], json!([]));
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("/documents/links/"), "{url}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(link["expiresAt"].as_str().unwrap()).unwrap();
    assert!(
        expires > Utc::now() + Duration::minutes(14)
            && expires < Utc::now() + Duration::minutes(16)
    );
    let (status, kind, disposition, pdf) = get(&app, None, url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_pdf(&kind, &disposition, "label-order-100777.pdf");
    assert!(tool(&pdf, "pdfinfo", &[]).contains("288 x 432 pts"));
    assert_eq!(barcodes(&pdf), ["1Z999AA10123456784"]);
    let text = text(&pdf);
    for expected in [
        "Łódź Ceramics",
        "12 Example Street",
        "Tel. +44 20 7946 0000",
        "Αλέξανδρος Παπαδόπουλος",
        "546 21 Θεσσαλονίκη",
        "Greece",
        "Order 100777",
        "Weight: 1.600 kg",
        "Carrier: Royal Mail",
        "Service: International Tracked",
        "Tracking no. 1Z999AA10123456784",
        "CUSTOMS DECLARATION",
        "Kubek „Żubr” 1",
        "Teetasse Größe M 2",
        "IOSS: IM2760000001",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    // OVERWRITE: the store's phone is the recipient's (twice: sender and recipient); PREFILL:
    // the order's own email stays.
    assert_eq!(text.matches("Tel. +44 20 7946 0000").count(), 2, "{text}");
    assert!(text.contains("Email αλέξανδρος@example.com"), "{text}");
    assert!(tool(&pdf, "pdfimages", &["-list"]).contains(" image "));

    // The order itself is not rewritten by the rule.
    let stored = order::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.customer_phone, None);
}

#[tokio::test]
async fn a_label_within_the_eu_has_no_customs_and_prefills_the_stores_phone_on_a6() {
    let app = spawn_app().await;
    let mut options = store_options("Berlin Shop");
    options["returnAddress"] = json!({ "street1": "Hauptstraße 1", "city": "Berlin", "postalCode": "10115", "countryCode": "DE" });
    options["phoneMode"] = json!("PREFILL");
    options["emailMode"] = json!("OVERWRITE");
    let (token, store, _) = shop_with_options(&app, "eu@example.com", options).await;
    let to = address(
        "Дмитрий",
        "Шостакович",
        "Warszawa",
        "00-001",
        "PL",
        "Poland",
    );
    let id = order_with(&app, store, "5005", to, 1).await;

    let (status, _, _, pdf) = get(
        &app,
        Some(&token),
        &format!("/documents/labels.pdf?orders={id}&paper=A6&tracking=CX123456789DE&carrier=DHL"),
    )
    .await;

    assert_eq!(status, 200);
    assert!(tool(&pdf, "pdfinfo", &[]).contains("297.638 x 419.528 pts"));
    assert_eq!(barcodes(&pdf), ["CX123456789DE"]);
    let text = text(&pdf);
    assert!(text.contains("Дмитрий Шостакович"), "{text}");
    assert!(
        !text.contains("CUSTOMS"),
        "DE → PL needs no declaration: {text}"
    );
    assert!(!text.contains("IOSS"), "{text}");
    // PREFILL phone: the order has none, so the store's; OVERWRITE email: the store's.
    assert!(text.contains("Tel. +44 20 7946 0000"), "{text}");
    assert!(text.contains("Email shop@example.com"), "{text}");
    assert!(!text.contains("дмитрий@example.com"), "{text}");
}

#[tokio::test]
async fn many_orders_make_one_pdf_of_labels() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "many@example.com", store_options("Many")).await;
    let mut ids = Vec::new();
    let mut shipping = Vec::new();
    for n in 0..3 {
        let id = order_to_germany(&app, store, &format!("{}", 7000 + n)).await;
        ids.push(order_gid(id));
        shipping
            .push(json!({ "orderId": order_gid(id), "trackingNumber": format!("TRACK{n}000{n}") }));
    }
    let created = create_link(
        &app,
        &token,
        json!({ "kind": "LABEL", "orderIds": ids, "paperSize": "LABEL_4X6", "shipping": shipping }),
    )
    .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    assert_eq!(created["link"]["fileName"], "labels-3-orders.pdf");

    let (status, _, _, pdf) = get(&app, None, created["link"]["url"].as_str().unwrap()).await;

    assert_eq!(status, 200);
    let info = tool(&pdf, "pdfinfo", &[]);
    assert!(info.contains("Pages:           3"), "{info}");
    let text = text(&pdf);
    for n in 0..3 {
        assert!(text.contains(&format!("TRACK{n}000{n}")), "{text}");
        assert!(text.contains(&format!("Order {}", 7000 + n)), "{text}");
    }
}

#[tokio::test]
async fn a_signed_link_refuses_tampering_and_expiry() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "links@example.com", store_options("Links")).await;
    let id = order_to_germany(&app, store, "4004").await;
    let other = order_to_germany(&app, store, "4005").await;
    let created = create_link(
        &app,
        &token,
        json!({ "kind": "INVOICE", "orderIds": [order_gid(id)] }),
    )
    .await;
    let url = created["link"]["url"].as_str().unwrap().to_string();
    assert_eq!(get(&app, None, &url).await.0, 200);

    // A changed character of the body or of the signature.
    let (body, sig) = url.rsplit_once('.').unwrap();
    let flip = |s: &str, at: usize| {
        let mut c: Vec<char> = s.chars().collect();
        c[at] = if c[at] == 'A' { 'B' } else { 'A' };
        c.into_iter().collect::<String>()
    };
    assert_eq!(
        get(&app, None, &format!("{}.{sig}", flip(body, body.len() - 3)))
            .await
            .0,
        403
    );
    assert_eq!(
        get(&app, None, &format!("{body}.{}", flip(sig, 2))).await.0,
        403
    );
    assert_eq!(get(&app, None, "/documents/links/nonsense").await.0, 403);
    // Another order's request under this link's signature.
    let request = orderdeck::services::documents::DocumentRequest {
        kind: orderdeck::pdf::DocumentKind::Invoice,
        order_ids: vec![other],
        shipment_ids: Vec::new(),
        paper: None,
        shipping: Vec::new(),
        batch_id: None,
    };
    let foreign_key =
        orderdeck::crypto::LinkSigner::new(&orderdeck::crypto::MasterKey::from_bytes([9; 32]));
    let forged = orderdeck::services::documents::links::sign(
        &foreign_key,
        1,
        &request,
        Utc::now() + Duration::minutes(5),
    )
    .unwrap();
    assert_eq!(
        get(&app, None, &format!("/documents/links/{forged}"))
            .await
            .0,
        403
    );
    // Signed with the server's key but expired.
    let expired = orderdeck::services::documents::links::sign(
        &app.state.links,
        1,
        &request,
        Utc::now() - Duration::seconds(1),
    )
    .unwrap();
    let (status, _, _, body) = get(&app, None, &format!("/documents/links/{expired}")).await;
    assert_eq!(status, 410, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({ "error": "the link has expired", "code": "GONE" })
    );
}

#[tokio::test]
async fn every_refused_download_answers_one_json_shape_with_a_stable_code() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "shape@example.com", store_options("Shape")).await;
    let id = order_to_germany(&app, store, "4006").await;
    let cases = [
        (
            None,
            format!("/documents/invoices.pdf?orders={id}"),
            401,
            "UNAUTHENTICATED",
        ),
        (
            Some(token.as_str()),
            "/documents/invoices.pdf?orders=x".to_string(),
            400,
            "BAD_REQUEST",
        ),
        (
            Some(token.as_str()),
            "/documents/invoices.pdf?orders=999999".to_string(),
            404,
            "NOT_FOUND",
        ),
        (
            None,
            "/documents/links/nonsense".to_string(),
            403,
            "FORBIDDEN",
        ),
        (
            Some(token.as_str()),
            "/integrations/999999/logo".to_string(),
            404,
            "NOT_FOUND",
        ),
    ];
    for (token, path, status, code) in cases {
        let (got, _, _, body) = get(&app, token, &path).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (got.as_u16(), body["code"].as_str()),
            (status, Some(code)),
            "{path}: {body}"
        );
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn create_document_link_refuses_what_cannot_be_printed() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "refuse@example.com", store_options("Refuse")).await;
    let id = order_gid(order_to_germany(&app, store, "6006").await);
    let cases = [
        (
            json!({ "kind": "INVOICE", "orderIds": [] }),
            "REQUIRED",
            json!(["orderIds"]),
        ),
        (
            json!({ "kind": "INVOICE", "orderIds": ["gid://orderdeck/Order/999999"] }),
            "NOT_FOUND",
            json!(["orderIds"]),
        ),
        (
            json!({ "kind": "INVOICE", "orderIds": ["nonsense"] }),
            "NOT_FOUND",
            json!(["orderIds"]),
        ),
        (
            json!({ "kind": "INVOICE", "orderIds": [id], "paperSize": "A6" }),
            "INVALID",
            json!(["paperSize"]),
        ),
        (
            json!({ "kind": "LABEL", "orderIds": [id], "paperSize": "A4" }),
            "INVALID",
            json!(["paperSize"]),
        ),
        (
            json!({ "kind": "INVOICE", "orderIds": [id], "shipping": [{ "orderId": id, "trackingNumber": "1" }] }),
            "INVALID",
            json!(["shipping"]),
        ),
        (
            json!({ "kind": "LABEL", "orderIds": [id], "shipping": [{ "orderId": id, "trackingNumber": "ŁÓDŹ-1" }] }),
            "INVALID",
            json!(["shipping", "trackingNumber"]),
        ),
        (
            json!({ "kind": "LABEL", "orderIds": [id], "shipping": [{ "orderId": id, "trackingNumber": "9".repeat(41) }] }),
            "INVALID",
            json!(["shipping", "trackingNumber"]),
        ),
        (
            json!({ "kind": "LABEL", "orderIds": [id], "shipping": [{ "orderId": id, "carrier": "C".repeat(101) }] }),
            "TOO_LONG",
            json!(["shipping", "carrier"]),
        ),
        (
            json!({ "kind": "LABEL", "orderIds": [id], "shipping": [{ "orderId": "gid://orderdeck/Order/5" }] }),
            "INVALID",
            json!(["shipping", "orderId"]),
        ),
    ];
    for (input, code, field) in cases {
        let res = create_link(&app, &token, input.clone()).await;
        assert_eq!(codes(&res), [code], "{input}: {res}");
        assert_eq!(res["userErrors"][0]["field"], field, "{input}: {res}");
        assert!(res["link"].is_null(), "{input}: {res}");
    }
    let too_many: Vec<String> = (1..=501).map(order_gid).collect();
    let res = create_link(
        &app,
        &token,
        json!({ "kind": "LABEL", "orderIds": too_many }),
    )
    .await;
    assert_eq!(codes(&res), ["INVALID"], "{res}");
    assert_eq!(
        app.rows("invoices").await,
        0,
        "nothing numbered by refused requests"
    );
}

#[tokio::test]
async fn the_download_routes_answer_401_400_and_404_plainly() {
    let app = spawn_app().await;
    let (token, store, _) =
        shop_with_options(&app, "routes@example.com", store_options("Routes")).await;
    let id = order_to_germany(&app, store, "8008").await;
    for path in [
        format!("/documents/invoices.pdf?orders={id}"),
        format!("/documents/labels.pdf?orders={id}"),
    ] {
        assert_eq!(get(&app, None, &path).await.0, 401);
        assert_eq!(get(&app, Some("odk_not-a-token"), &path).await.0, 401);
        assert_eq!(get(&app, Some(&token), &path).await.0, 200);
    }
    for bad in [
        "orders=",
        "orders=abc",
        &format!("orders={id}&paper=A5"),
        &format!("orders={id}&paper=A6"),
    ] {
        let (status, kind, _, body) = get(
            &app,
            Some(&token),
            &format!("/documents/invoices.pdf?{bad}"),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {}", String::from_utf8_lossy(&body));
        assert!(kind.starts_with("application/json"), "{kind}");
    }
    let (status, _, _, _) = get(
        &app,
        Some(&token),
        &format!("/documents/labels.pdf?orders={id}&tracking=%C5%81"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        get(&app, Some(&token), "/documents/invoices.pdf?orders=999999")
            .await
            .0,
        404
    );
    assert_eq!(
        get(
            &app,
            Some(&token),
            &format!("/documents/invoices.pdf?orders={id},999999")
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.rows("invoices").await,
        1,
        "only the successful download numbered"
    );
}

#[tokio::test]
async fn create_document_link_needs_a_token() {
    let app = spawn_app().await;
    for token in [None, Some("not-a-real-token")] {
        let body = app
            .gql(
                token,
                LINK,
                json!({ "i": { "kind": "INVOICE", "orderIds": [order_gid(1)] } }),
            )
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
}

#[tokio::test]
async fn a_broken_template_stops_the_start_naming_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::create_dir(dir.path().join("fonts")).unwrap();
    for name in [
        "invoice.toml",
        "label.toml",
        "fonts/DejaVuSans.ttf",
        "fonts/DejaVuSans-Bold.ttf",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }
    let label = std::fs::read_to_string(source.join("label.toml")).unwrap();
    let broken = label.replacen("text = \"#000000\"", "text = \"black\"", 1);
    std::fs::write(dir.path().join("label.toml"), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("\"black\""))
        .unwrap()
        + 1;
    let settings = orderdeck::config::Settings {
        templates_dir: Some(dir.path().to_path_buf()),
        data_dir: dir.path().join("data"),
        bind: "127.0.0.1:0".into(),
        ..Default::default()
    };

    let err = orderdeck::startup::Application::build(settings)
        .await
        .err()
        .unwrap()
        .to_string();

    assert!(err.contains("label.toml"), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    assert!(err.contains("colour"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing started before the templates were read"
    );
}

// ---------------------------------------------------------------------------------------------
// Shipments' labels
// ---------------------------------------------------------------------------------------------

const SHIP: &str = "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { shipments { id trackingNumber customs { items { description quantity } } } userErrors { field code message } } userErrors { field code message } } }";

/// A sandbox shop whose store is in London (outside the EU) with an IOSS number, a phone and an
/// email, both PREFILL; MUG on its shelves.
async fn london_shop(email: &str) -> Shop {
    let s = shop(email).await;
    let mut input = store_options("London Parcels");
    input["id"] = json!(s.gid);
    input["phoneMode"] = json!("PREFILL");
    input["emailMode"] = json!("PREFILL");
    let updated = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { field code message } } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(
        updated["updateIntegration"]["userErrors"],
        json!([]),
        "{updated}"
    );
    s.stocked(&[("MUG", 50)]).await;
    a_second_passes().await;
    s
}

/// A shopper in Berlin with no phone or email of their own orders `quantity` MUG on the
/// store (one line, so one shipping address: the billing one); imported, its number and
/// global id.
async fn order_to_berlin(s: &Shop, quantity: i64) -> (i64, String) {
    let number = s
        .place_with(
            json!([{ "sku": "MUG", "quantity": quantity }]),
            json!({ "billing_address": {
                "first_name": "Jürgen", "last_name": "Großmann", "company": "",
                "street_1": "Invalidenstraße 1", "street_2": "", "city": "Berlin", "state": "",
                "zip": "10115", "country": "Germany", "country_iso2": "DE",
                "phone": "", "email": "",
            } }),
        )
        .await;
    s.import("ORDERS").await;
    let id = s.order(number).await["id"].as_str().unwrap().to_string();
    (number, id)
}

/// `shipOrders` with one LABEL shipment by Royal Mail of `order_id` (`lines`: null for all
/// that is unshipped); the shipment made.
async fn ship_label(s: &Shop, order_id: &str, lines: Value) -> Value {
    let res = s
        .app
        .data(
            Some(&s.token),
            SHIP,
            json!({ "i": { "shipments": [{ "orderId": order_id, "method": "LABEL", "carrier": "Royal Mail", "lines": lines }] } }),
        )
        .await;
    let result = &res["shipOrders"]["results"][0];
    assert_eq!(result["userErrors"], json!([]), "{res}");
    let shipments = result["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1, "{res}");
    shipments[0].clone()
}

/// The global id of the order's only line.
async fn only_line(s: &Shop, order_id: &str) -> String {
    let o = s
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { order(id: $id) { lines { id } } }",
            json!({ "id": order_id }),
        )
        .await;
    o["order"]["lines"][0]["id"].as_str().unwrap().to_string()
}

fn shipment_row_id(gid: &Value) -> i64 {
    gid.as_str()
        .unwrap()
        .strip_prefix("gid://orderdeck/Shipment/")
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_shipments_label_shows_its_tracking_number_the_stores_contact_and_the_ioss_number() {
    let s = london_shop("shipment-label@example.com").await;
    let (number, order) = order_to_berlin(&s, 2).await;
    let shipment = ship_label(&s, &order, Value::Null).await;
    let tracking = shipment["trackingNumber"].as_str().unwrap().to_string();
    assert!(tracking.starts_with("OD"), "{shipment}");

    let created = create_link(
        &s.app,
        &s.token,
        json!({ "kind": "LABEL", "shipmentIds": [shipment["id"]] }),
    )
    .await;

    assert_eq!(created["userErrors"], json!([]), "{created}");
    let link = &created["link"];
    let file = format!("label-shipment-{tracking}.pdf");
    assert_eq!(link["fileName"], file.as_str());
    assert_eq!(
        (&link["shipmentCount"], &link["orderCount"]),
        (&json!(1), &json!(0))
    );
    let (status, kind, disposition, pdf) = get(&s.app, None, link["url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_pdf(&kind, &disposition, &file);
    assert_eq!(barcodes(&pdf), [tracking.as_str()]);
    let printed = text(&pdf);
    let (order_line, tracking_line) = (
        format!("Order {number}"),
        format!("Tracking no. {tracking}"),
    );
    for expected in [
        "London Parcels",
        "12 Example Street",
        "Jürgen Großmann",
        "Invalidenstraße 1",
        "10115 Berlin",
        order_line.as_str(),
        "Carrier: Royal Mail",
        tracking_line.as_str(),
        "CUSTOMS DECLARATION",
        "IOSS: IM2760000001",
        // PREFILL, and the order has no phone or email: the store's.
        "Email shop@example.com",
    ] {
        assert!(
            printed.contains(expected),
            "{expected:?} missing in {printed}"
        );
    }
    assert_eq!(
        printed.matches("Tel. +44 20 7946 0000").count(),
        2,
        "the sender's and the recipient's: {printed}"
    );

    // The same label with the token, by row id or global id.
    for id in [
        shipment_row_id(&shipment["id"]).to_string(),
        shipment["id"].as_str().unwrap().to_string(),
    ] {
        let (status, kind, disposition, again) = get(
            &s.app,
            Some(&s.token),
            &format!("/documents/labels.pdf?shipments={id}&paper=A6"),
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&again));
        assert_pdf(&kind, &disposition, &file);
        assert!(tool(&again, "pdfinfo", &[]).contains("297.638 x 419.528 pts"));
        assert!(text(&again).contains(&tracking_line));
    }
}

#[tokio::test]
async fn labels_of_partial_shipments_declare_only_what_each_carries_in_the_order_given() {
    let s = london_shop("shipment-labels@example.com").await;
    let (_, order) = order_to_berlin(&s, 3).await;
    let line = only_line(&s, &order).await;
    let first = ship_label(&s, &order, json!([{ "lineId": line, "quantity": 1 }])).await;
    let second = ship_label(&s, &order, Value::Null).await;
    let item = |sh: &Value| {
        let i = &sh["customs"]["items"][0];
        format!("{} {}", i["description"].as_str().unwrap(), i["quantity"])
    };
    let (one, two) = (item(&first), item(&second));
    assert!(one.ends_with(" 1") && two.ends_with(" 2"), "{one} / {two}");

    let created = create_link(
        &s.app,
        &s.token,
        json!({ "kind": "LABEL", "shipmentIds": [second["id"], first["id"], second["id"]] }),
    )
    .await;

    assert_eq!(created["userErrors"], json!([]), "{created}");
    assert_eq!(created["link"]["fileName"], "labels-2-shipments.pdf");
    assert_eq!(created["link"]["shipmentCount"], 2, "duplicates dropped");
    let (status, _, disposition, pdf) =
        get(&s.app, None, created["link"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        disposition.contains("labels-2-shipments.pdf"),
        "{disposition}"
    );
    // The layout kept, so a customs row reads as one line: contents, quantity, value.
    let page = |n: usize| {
        let n = n.to_string();
        tool(
            &pdf,
            "pdftotext",
            &["-layout", "-f", &n, "-l", &n, "-enc", "UTF-8"],
        )
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
    };
    let (page1, page2) = (page(1), page(2));
    assert!(tool(&pdf, "pdfinfo", &[]).contains("Pages:           2"));
    for (page, shipment, item) in [(&page1, &second, &two), (&page2, &first, &one)] {
        let tracking = shipment["trackingNumber"].as_str().unwrap();
        assert!(page.contains(&format!("Tracking no. {tracking}")), "{page}");
        assert!(page.contains(item.as_str()), "{item:?} missing in {page}");
    }
    let whole = format!("{} 3", one.trim_end_matches(" 1"));
    assert!(
        !page1.contains(&whole) && !page2.contains(&whole),
        "not the whole order's quantity: {page1} / {page2}"
    );
}

#[tokio::test]
async fn shipment_labels_are_refused_for_another_accounts_shipment_and_alongside_orders() {
    let s = london_shop("shipment-refusals@example.com").await;
    let (_, order) = order_to_berlin(&s, 1).await;
    let shipment = ship_label(&s, &order, Value::Null).await;
    let id = shipment["id"].clone();
    let row = shipment_row_id(&id);
    let intruder = s.app.signed_in("intruder@example.com").await;

    let theirs = create_link(
        &s.app,
        &intruder,
        json!({ "kind": "LABEL", "shipmentIds": [id] }),
    )
    .await;
    assert_eq!(codes(&theirs), ["NOT_FOUND"], "{theirs}");
    assert_eq!(theirs["userErrors"][0]["field"], json!(["shipmentIds"]));
    assert!(theirs["link"].is_null());
    assert_eq!(
        get(
            &s.app,
            Some(&intruder),
            &format!("/documents/labels.pdf?shipments={row}")
        )
        .await
        .0,
        404
    );

    let too_many: Vec<String> = (1..=501)
        .map(|n| format!("gid://orderdeck/Shipment/{n}"))
        .collect();
    let cases = [
        (
            json!({ "kind": "LABEL", "orderIds": [order], "shipmentIds": [id] }),
            "INVALID",
            json!(["shipmentIds"]),
        ),
        (
            json!({ "kind": "INVOICE", "shipmentIds": [id] }),
            "INVALID",
            json!(["shipmentIds"]),
        ),
        (
            json!({ "kind": "LABEL", "shipmentIds": [id], "shipping": [{ "orderId": order, "trackingNumber": "1" }] }),
            "INVALID",
            json!(["shipping"]),
        ),
        (
            json!({ "kind": "LABEL", "shipmentIds": [order] }),
            "NOT_FOUND",
            json!(["shipmentIds"]),
        ),
        (
            json!({ "kind": "LABEL", "shipmentIds": ["gid://orderdeck/Shipment/999999"] }),
            "NOT_FOUND",
            json!(["shipmentIds"]),
        ),
        (
            json!({ "kind": "LABEL", "shipmentIds": too_many }),
            "INVALID",
            json!(["shipmentIds"]),
        ),
        (json!({ "kind": "LABEL" }), "REQUIRED", json!(["orderIds"])),
    ];
    for (input, code, field) in cases {
        let res = create_link(&s.app, &s.token, input.clone()).await;
        assert_eq!(codes(&res), [code], "{input}: {res}");
        assert_eq!(res["userErrors"][0]["field"], field, "{input}: {res}");
        assert!(res["link"].is_null(), "{input}: {res}");
    }
    let order_row = order.rsplit('/').next().unwrap();
    for bad in [
        format!("labels.pdf?orders={order_row}&shipments={row}"),
        format!("invoices.pdf?shipments={row}"),
        format!("labels.pdf?shipments={row}&tracking=1Z9"),
        "labels.pdf?shipments=abc".to_string(),
        format!("labels.pdf?shipments={order}"),
    ] {
        let (status, _, _, body) = get(&s.app, Some(&s.token), &format!("/documents/{bad}")).await;
        assert_eq!(status, 400, "{bad}: {}", String::from_utf8_lossy(&body));
    }
    assert_eq!(s.app.rows("invoices").await, 0, "nothing numbered");
}

#[tokio::test]
async fn an_invoice_adds_up_when_shipping_is_taxed_its_tax_counted_once() {
    let s = shop("taxed-shipping@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    a_second_passes().await;
    let number = s
        .place_with(
            json!([{ "sku": "MUG", "quantity": 2 }]),
            json!({ "shipping_cost_ex_tax": "10.00", "shipping_cost_inc_tax": "12.00" }),
        )
        .await;
    s.import("ORDERS").await;
    let order = s
        .app
        .data(
            Some(&s.token),
            "query($f: OrderFilterInput) { orders(first: 1, filter: $f) { nodes { id subtotalExTax { amount } shipping { amount } shippingExTax { amount } tax { amount } total { amount } } } }",
            json!({ "f": { "search": format!("#{number}") } }),
        )
        .await["orders"]["nodes"][0]
        .clone();
    let amount = |field: &str| -> rust_decimal::Decimal {
        order[field]["amount"].as_str().unwrap().parse().unwrap()
    };
    assert_eq!(amount("shipping"), "12".parse().unwrap(), "{order}");
    assert_eq!(amount("shippingExTax"), "10".parse().unwrap(), "{order}");
    assert_eq!(
        amount("subtotalExTax") + amount("shippingExTax") + amount("tax"),
        amount("total"),
        "the store's figures add up: {order}"
    );
    let payload = create_link(
        &s.app,
        &s.token,
        json!({ "kind": "INVOICE", "orderIds": [order["id"]] }),
    )
    .await;
    let (status, _, _, pdf) = get(&s.app, None, payload["link"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let printed = tool(&pdf, "pdftotext", &["-layout", "-enc", "UTF-8"]);
    // A totals row as laid out: its label, then its amount.
    let row = |label: &str| -> rust_decimal::Decimal {
        printed
            .lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix(label))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("{label} in {printed}"))
    };
    assert_eq!(row("Shipping"), "10.00".parse().unwrap(), "{printed}");
    assert_eq!(
        row("Subtotal") + row("Shipping") + row("Tax"),
        row("Total"),
        "{printed}"
    );
    assert!(
        !printed.contains("Discounts and other charges"),
        "{printed}"
    );
}
