//! `uploadIntegrationLogo` / `removeIntegrationLogo` through GraphQL multipart requests, and
//! `GET /integrations/{id}/logo`.

use std::io::Cursor;

use image::ImageFormat;
use reqwest::multipart::Part;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{
    codes, crc32, download, png, send_form, spawn_app, upload_mutation, upload_payload, TestApp,
    LOGO_FIELDS, PNG_SIGNATURE,
};

mod memory;

fn remove_mutation() -> String {
    format!(
        "mutation($input: RemoveIntegrationLogoInput!) {{ removeIntegrationLogo(input: $input) {{ integration {{ id {LOGO_FIELDS} }} userErrors {{ field code message }} }} }}"
    )
}

async fn remove_payload(app: &TestApp, token: &str, integration_id: &str) -> Value {
    app.data(
        Some(token),
        &remove_mutation(),
        json!({ "input": { "integrationId": integration_id } }),
    )
    .await["removeIntegrationLogo"]
        .clone()
}

/// A `w`×`h` JPEG (the JPEG encoder takes RGB, not RGBA).
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// A tiny, well-formed-looking PNG whose IHDR declares `w`×`h` pixels (with a valid CRC).
fn bomb(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png(1, 1, 0);
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An app with one signed-in account and one connected store: (app, token, integration id).
async fn app_with_integration() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let token = app.signed_in("logos@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    assert_eq!(connected["userErrors"], json!([]), "{connected}");
    let id = connected["integration"]["id"].as_str().unwrap().to_string();
    (app, token, id)
}

/// The logo as `integration(id)` reports it.
async fn queried_logo(app: &TestApp, token: &str, id: &str) -> Value {
    app.data(
        Some(token),
        &format!("query($id: ID!) {{ integration(id: $id) {{ {LOGO_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["integration"]["logo"]
        .clone()
}

/// Asserts a refused upload: exactly `code` on `["file"]`, no integration, nothing stored.
async fn assert_refused(app: &TestApp, payload: &Value, code: &str, token: &str, id: &str) {
    assert_eq!(codes(payload), vec![code.to_string()], "{payload}");
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["file"]),
        "{payload}"
    );
    assert!(payload["integration"].is_null(), "{payload}");
    assert_eq!(app.rows("integration_logos").await, 0);
    assert!(queried_logo(app, token, id).await.is_null());
}

#[tokio::test]
async fn a_png_logo_is_stored_re_encoded_and_downloadable() {
    let (app, token, id) = app_with_integration().await;

    let payload = upload_payload(&app, &token, &id, png(120, 40, 7), "logo.png", "image/png").await;

    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["integration"]["id"], json!(id));
    let logo = &payload["integration"]["logo"];
    assert_eq!(logo["contentType"], "image/png");
    assert_eq!(
        (logo["width"].as_i64(), logo["height"].as_i64()),
        (Some(120), Some(40))
    );
    let sha = logo["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
    let url = logo["url"].as_str().unwrap();
    assert!(
        url.starts_with("/integrations/") && url.ends_with("/logo"),
        "{url}"
    );
    assert_eq!(app.rows("integration_logos").await, 1);
    assert_eq!(&queried_logo(&app, &token, &id).await, logo);

    let res = download(&app, Some(&token), url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{sha}\""));
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(PNG_SIGNATURE));
    assert_eq!(
        i64::try_from(body.len()).unwrap(),
        logo["byteSize"].as_i64().unwrap()
    );
    assert_eq!(sha256_hex(&body), sha);
    let decoded = image::load_from_memory_with_format(&body, ImageFormat::Png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (120, 40));

    let cached = app
        .http
        .get(format!("{}{url}", app.address))
        .bearer_auth(&token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let anonymous = download(&app, None, url).await;
    assert_eq!(anonymous.status(), 401);
    let forged = download(&app, Some("not-a-real-token"), url).await;
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn a_jpeg_logo_is_accepted_and_stored_as_png() {
    let (app, token, id) = app_with_integration().await;

    let payload = upload_payload(&app, &token, &id, jpeg(80, 60), "logo.jpg", "image/jpeg").await;

    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let logo = &payload["integration"]["logo"];
    assert_eq!(logo["contentType"], "image/png");
    assert_eq!(
        (logo["width"].as_i64(), logo["height"].as_i64()),
        (Some(80), Some(60))
    );
    let res = download(&app, Some(&token), logo["url"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(PNG_SIGNATURE));
    assert_eq!(sha256_hex(&body), logo["sha256"].as_str().unwrap());
}

#[tokio::test]
async fn a_logo_larger_than_600_pixels_is_scaled_to_fit_keeping_its_aspect_ratio() {
    let (app, token, id) = app_with_integration().await;

    for ((w, h), expected) in [((1200, 300), (600, 150)), ((500, 1000), (300, 600))] {
        let payload = upload_payload(&app, &token, &id, png(w, h, 1), "big.png", "image/png").await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        let logo = &payload["integration"]["logo"];
        assert_eq!(
            (logo["width"].as_i64(), logo["height"].as_i64()),
            (Some(i64::from(expected.0)), Some(i64::from(expected.1))),
            "{w}x{h}"
        );
        let body = download(&app, Some(&token), logo["url"].as_str().unwrap())
            .await
            .bytes()
            .await
            .unwrap();
        let decoded = image::load_from_memory_with_format(&body, ImageFormat::Png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), expected, "{w}x{h}");
    }
}

#[tokio::test]
async fn uploading_again_replaces_the_logo() {
    let (app, token, id) = app_with_integration().await;

    let first = upload_payload(&app, &token, &id, png(100, 100, 1), "one.png", "image/png").await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    let second = upload_payload(&app, &token, &id, jpeg(64, 32), "two.jpg", "image/jpeg").await;
    assert_eq!(second["userErrors"], json!([]), "{second}");

    let (old, new) = (
        &first["integration"]["logo"],
        &second["integration"]["logo"],
    );
    assert_ne!(old["sha256"], new["sha256"]);
    assert_eq!(
        (new["width"].as_i64(), new["height"].as_i64()),
        (Some(64), Some(32))
    );
    assert_eq!(old["url"], new["url"]);
    assert_eq!(app.rows("integration_logos").await, 1);
    assert_eq!(&queried_logo(&app, &token, &id).await, new);
    let body = download(&app, Some(&token), new["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256_hex(&body), new["sha256"].as_str().unwrap());
}

#[tokio::test]
async fn removing_the_logo_deletes_it_and_its_download() {
    let (app, token, id) = app_with_integration().await;
    let uploaded = upload_payload(&app, &token, &id, png(50, 50, 3), "logo.png", "image/png").await;
    let url = uploaded["integration"]["logo"]["url"]
        .as_str()
        .unwrap()
        .to_string();

    let removed = remove_payload(&app, &token, &id).await;

    assert_eq!(removed["userErrors"], json!([]), "{removed}");
    assert_eq!(removed["integration"]["id"], json!(id));
    assert!(removed["integration"]["logo"].is_null(), "{removed}");
    assert!(queried_logo(&app, &token, &id).await.is_null());
    assert_eq!(download(&app, Some(&token), &url).await.status(), 404);
    assert_eq!(app.rows("integration_logos").await, 0);

    // Removing a logo that is not there changes nothing and is not an error.
    let again = remove_payload(&app, &token, &id).await;
    assert_eq!(again["userErrors"], json!([]), "{again}");
    assert!(again["integration"]["logo"].is_null());
}

#[tokio::test]
async fn a_file_that_is_not_a_png_or_jpeg_is_refused_and_nothing_is_saved() {
    let (app, token, id) = app_with_integration().await;
    let files: [(&[u8], &str, &str); 3] = [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "logo.pdf", "application/pdf"),
        // The declared name and type do not matter: the bytes are what is checked.
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "logo.png", "image/png"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "logo.gif", "image/gif"),
    ];

    for (bytes, name, content_type) in files {
        let payload = upload_payload(&app, &token, &id, bytes.to_vec(), name, content_type).await;
        assert_refused(&app, &payload, "UNSUPPORTED_IMAGE_TYPE", &token, &id).await;
    }
}

#[tokio::test]
async fn a_file_over_2_mb_is_refused_and_nothing_is_saved() {
    let (app, token, id) = app_with_integration().await;
    let mut bytes = PNG_SIGNATURE.to_vec();
    bytes.resize(2 * 1024 * 1024 + 10, 0);

    let payload = upload_payload(&app, &token, &id, bytes, "huge.png", "image/png").await;

    assert_refused(&app, &payload, "FILE_TOO_LARGE", &token, &id).await;
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_by_its_declared_dimensions() {
    let (app, token, id) = app_with_integration().await;
    let bytes = bomb(11_000, 11_000);
    assert!(bytes.len() < 200);

    let payload = upload_payload(&app, &token, &id, bytes, "bomb.png", "image/png").await;

    assert_refused(&app, &payload, "IMAGE_DIMENSIONS_TOO_LARGE", &token, &id).await;
}

#[tokio::test]
async fn a_real_image_over_4096_pixels_a_side_is_refused() {
    let (app, token, id) = app_with_integration().await;

    let payload = upload_payload(&app, &token, &id, png(4097, 1, 0), "wide.png", "image/png").await;

    assert_refused(&app, &payload, "IMAGE_DIMENSIONS_TOO_LARGE", &token, &id).await;
}

#[tokio::test]
async fn a_truncated_png_is_refused_as_an_invalid_image() {
    let (app, token, id) = app_with_integration().await;
    let mut bytes = png(200, 200, 9);
    bytes.truncate(bytes.len() / 2);

    let payload = upload_payload(&app, &token, &id, bytes, "cut.png", "image/png").await;

    assert_refused(&app, &payload, "INVALID_IMAGE", &token, &id).await;
}

#[tokio::test]
async fn a_request_body_over_11_mb_is_refused_with_413() {
    let (app, token, id) = app_with_integration().await;
    let mut bytes = png(10, 10, 0);
    bytes.resize(11 * 1024 * 1024 + 1, 0);
    let variables = json!({ "input": { "integrationId": id, "file": null } });
    let parts = [
        // With Content-Length: refused before the body is read.
        ("declared length", Part::bytes(bytes.clone())),
        // Chunked, no Content-Length: refused once 11 MB have been read.
        ("chunked", Part::stream(bytes)),
    ];

    for (how, part) in parts {
        let part = part
            .file_name("enormous.png")
            .mime_str("image/png")
            .unwrap();
        let res = send_form(
            &app,
            Some(&token),
            &upload_mutation(),
            variables.clone(),
            part,
        )
        .await;
        assert_eq!(res.status(), 413, "{how}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE",
            "{how}: {body}"
        );
        assert_eq!(app.rows("integration_logos").await, 0, "{how}");
    }

    // The server is fine afterwards.
    let payload = upload_payload(&app, &token, &id, png(10, 10, 0), "logo.png", "image/png").await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
}

#[tokio::test]
async fn an_unknown_integration_is_not_found() {
    let (app, token, _) = app_with_integration().await;

    for unknown in [
        "gid://orderdeck/Integration/999999",
        "gid://orderdeck/User/1",
        "not-an-id",
    ] {
        let uploaded = upload_payload(
            &app,
            &token,
            unknown,
            png(10, 10, 0),
            "logo.png",
            "image/png",
        )
        .await;
        assert_eq!(codes(&uploaded), ["NOT_FOUND"], "{unknown}: {uploaded}");
        assert_eq!(uploaded["userErrors"][0]["field"], json!(["integrationId"]));
        assert!(uploaded["integration"].is_null());

        let removed = remove_payload(&app, &token, unknown).await;
        assert_eq!(codes(&removed), ["NOT_FOUND"], "{unknown}: {removed}");
        assert_eq!(removed["userErrors"][0]["field"], json!(["integrationId"]));
        assert!(removed["integration"].is_null());
    }
    assert_eq!(app.rows("integration_logos").await, 0);
}
