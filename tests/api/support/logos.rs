//! Logos: uploading through GraphQL multipart requests (to the app in this process or a
//! child process) and downloading them again; PNG bytes to upload.

use std::io::Cursor;

use image::ImageFormat;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use super::app::TestApp;

pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A server the upload helpers post to: the app in this process, or the binary in a child
/// process (`logos/memory.rs`).
pub trait Server {
    /// The HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// `http://host:port`.
    fn address(&self) -> &str;
}

impl Server for TestApp {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
    fn address(&self) -> &str {
        &self.address
    }
}

pub const LOGO_FIELDS: &str = "logo { contentType width height byteSize sha256 url }";

/// `uploadIntegrationLogo`, with `file` supplied by the multipart part "0".
pub fn upload_mutation() -> String {
    format!(
        "mutation($input: UploadIntegrationLogoInput!) {{ uploadIntegrationLogo(input: $input) {{ integration {{ id {LOGO_FIELDS} }} userErrors {{ field code message }} }} }}"
    )
}

/// Posts a GraphQL multipart request (jaydenseric's spec): `operations`, `map` and `file` as
/// part "0", mapped to `variables.input.file` (which `variables` must hold as null).
pub async fn send_form(
    app: &impl Server,
    token: Option<&str>,
    query: &str,
    variables: Value,
    file: Part,
) -> reqwest::Response {
    let operations = json!({ "query": query, "variables": variables });
    let map = json!({ "0": ["variables.input.file"] });
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string())
        .part("0", file);
    let mut req = app
        .http()
        .post(format!("{}/graphql", app.address()))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Like [`send_form`], with the file given as bytes (the request declares its length).
pub async fn send_multipart(
    app: &impl Server,
    token: Option<&str>,
    query: &str,
    variables: Value,
    bytes: Vec<u8>,
    filename: &str,
    content_type: &str,
) -> reqwest::Response {
    let file = Part::bytes(bytes)
        .file_name(filename.to_string())
        .mime_str(content_type)
        .unwrap();
    send_form(app, token, query, variables, file).await
}

/// Uploads `bytes` as the logo of `integration_id`.
pub async fn upload_logo(
    app: &impl Server,
    token: Option<&str>,
    integration_id: &str,
    bytes: Vec<u8>,
    filename: &str,
    content_type: &str,
) -> reqwest::Response {
    send_multipart(
        app,
        token,
        &upload_mutation(),
        json!({ "input": { "integrationId": integration_id, "file": null } }),
        bytes,
        filename,
        content_type,
    )
    .await
}

/// Uploads and returns the `uploadIntegrationLogo` payload, failing on any HTTP or top-level error.
pub async fn upload_payload(
    app: &impl Server,
    token: &str,
    integration_id: &str,
    bytes: Vec<u8>,
    filename: &str,
    content_type: &str,
) -> Value {
    let res = upload_logo(
        app,
        Some(token),
        integration_id,
        bytes,
        filename,
        content_type,
    )
    .await;
    assert_eq!(
        res.status(),
        200,
        "the upload answered HTTP {}",
        res.status()
    );
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"]["uploadIntegrationLogo"].clone()
}

/// A `w`×`h` PNG with an alpha channel; `seed` varies its pixels.
pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, seed, 200])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// The CRC-32 of PNG chunks.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A GET of `url` on the server, with the token if any.
pub async fn download(app: &impl Server, token: Option<&str>, url: &str) -> reqwest::Response {
    let mut req = app.http().get(format!("{}{url}", app.address()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}
