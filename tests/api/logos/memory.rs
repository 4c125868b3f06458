//! Peak memory of the real server binary, run as a child process (its `VmHWM` is its own),
//! while it takes logos built to cost memory: colour-profile bombs and large images, one at a
//! time and sixteen at once.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use image::ImageFormat;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};

use crate::support::{
    crc32, download, png, random_secret_key, store_input, upload_payload, Server, TestDb, PASSWORD,
    PNG_SIGNATURE,
};

const MIB: u64 = 1024 * 1024;

/// `orderdeck serve` in a child process, on its own database, talking to a sandbox in this
/// process. Killed when dropped.
struct ChildServer {
    child: Child,
    address: String,
    http: reqwest::Client,
    store: StoreCredentials,
    _sandbox: SandboxHandle,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

impl Server for ChildServer {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }
    fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildServer {
    /// Starts the binary with only the environment given here (no configuration file: it runs
    /// in a fresh directory) and waits for the port it logs once listening.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(dir.path()).await;
        let sandbox = Sandbox::spawn(SandboxConfig {
            stores: 1,
            orders: 0,
            products: 0,
            ..Default::default()
        })
        .unwrap();
        let key = random_secret_key();
        let mut child = Command::new(env!("CARGO_BIN_EXE_orderdeck"))
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("ORDERDECK_BIND", "127.0.0.1:0")
            .env("ORDERDECK_DATA_DIR", dir.path().join("data"))
            .env("DATABASE_URL", &db.url)
            .env("ORDERDECK_SECRET_KEY", key)
            .env("ORDERDECK_BIGCOMMERCE_API_URL", &sandbox.url)
            .env("ORDERDECK_BIGCOMMERCE_TIMEOUT_MS", "1500")
            .env("ORDERDECK_SYNC_ENABLED", "false")
            .env("ORDERDECK_PUSH_ENABLED", "false")
            .env("ORDERDECK_DB_MAX_CONNECTIONS", "5")
            .env("ORDERDECK_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let port = listening_port(child.stdout.take().unwrap()).await;
        ChildServer {
            child,
            address: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            store: sandbox.first_store(),
            _sandbox: sandbox,
            _db: db,
            _dir: dir,
        }
    }

    /// Peak resident memory of the child so far, in bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in {status}"));
        kib * 1024
    }

    async fn data(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Registers, logs in and connects the sandbox store: (token, integration id).
    async fn signed_in_with_store(&self) -> (String, String) {
        let email = "memory@example.com";
        let registered = self
            .data(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code } } }",
                json!({ "i": { "accountName": "Memory Ltd", "email": email, "password": PASSWORD } }),
            )
            .await;
        assert_eq!(registered["register"]["userErrors"], json!([]));
        let login = self
            .data(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { token } }",
                json!({ "i": { "email": email, "password": PASSWORD } }),
            )
            .await;
        let token = login["login"]["token"].as_str().unwrap().to_string();
        let connected = self
            .data(
                Some(&token),
                "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { code } } }",
                json!({ "i": store_input(&self.store, json!({})) }),
            )
            .await;
        let id = connected["connectBigCommerce"]["integration"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{connected}"))
            .to_string();
        (token, id)
    }

    /// A started server with a signed-in account, a connected store and a first logo
    /// uploaded (it brings the decoding code and its buffers in): (server, token, integration
    /// id).
    async fn warmed_up() -> (Self, String, String) {
        let server = Self::start().await;
        let (token, id) = server.signed_in_with_store().await;
        server
            .uploaded(&token, &id, png(120, 40, 1), (120, 40))
            .await;
        (server, token, id)
    }

    /// Uploads `bytes` and asserts the logo was stored at `size`; returns its download path.
    async fn uploaded(&self, token: &str, id: &str, bytes: Vec<u8>, size: (i64, i64)) -> String {
        let payload = upload_payload(self, token, id, bytes, "logo", "image/png").await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        let logo = &payload["integration"]["logo"];
        assert_eq!(
            (logo["width"].as_i64(), logo["height"].as_i64()),
            (Some(size.0), Some(size.1))
        );
        logo["url"].as_str().unwrap().to_string()
    }
}

/// Reads the child's JSON log lines until the "listening" one and returns its port; a thread
/// keeps draining the pipe afterwards so that the child never blocks on a full one.
async fn listening_port(stdout: std::process::ChildStdout) -> u64 {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let listening = event["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening"));
            if let (true, Some(port)) = (listening, event["port"].as_u64()) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("the server did not log its port within a minute")
        .expect("the server exited before listening")
}

/// A valid 10×10 PNG with an iCCP chunk whose profile inflates to 1 GiB of zeros (the file is
/// about 1 MB).
fn colour_profile_bomb() -> Vec<u8> {
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let step = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zlib.write_all(&step).unwrap();
    }
    let data = [&b"Bomb\0\0"[..], &zlib.finish().unwrap()].concat();
    let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    chunk.extend_from_slice(b"iCCP");
    chunk.extend_from_slice(&data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let logo = png(10, 10, 5);
    assert_eq!(&logo[12..16], b"IHDR");
    [&logo[..33], &chunk, &logo[33..]].concat()
}

/// A solid 4096×4096 JPEG: under 1 MB of file, about 90 MB to decode and scale.
fn large_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4096, 4096, image::Rgb([30, 60, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn colour_profile_bombs_one_or_sixteen_at_once_barely_move_the_server_s_peak_memory() {
    let bomb = colour_profile_bomb();
    assert!(bomb.len() > 1_000_000 && bomb.len() < 2 * 1024 * 1024);
    let (server, token, id) = ChildServer::warmed_up().await;
    let before = server.peak_rss();

    server.uploaded(&token, &id, bomb.clone(), (10, 10)).await;
    let after_one = server.peak_rss();
    let sixteen = (0..16).map(|_| server.uploaded(&token, &id, bomb.clone(), (10, 10)));
    let urls = futures_util::future::join_all(sixteen).await;
    let after_sixteen = server.peak_rss();

    eprintln!(
        "peak RSS: {} MiB before, {} MiB after one bomb, {} MiB after sixteen at once",
        before / MIB,
        after_one / MIB,
        after_sixteen / MIB
    );
    assert!(after_one - before <= 64 * MIB, "{before} → {after_one}");
    assert!(after_sixteen < 300_000_000, "{after_sixteen}");
    let stored = download(&server, Some(&token), &urls[0])
        .await
        .bytes()
        .await
        .unwrap();
    assert!(stored.starts_with(PNG_SIGNATURE));
    assert!(
        !stored.windows(4).any(|w| w == b"iCCP"),
        "the profile was kept"
    );
    // The server takes ordinary logos afterwards.
    server
        .uploaded(&token, &id, png(300, 100, 2), (300, 100))
        .await;
}

#[tokio::test]
async fn sixteen_large_logos_at_once_are_all_stored_decoding_two_at_a_time() {
    let large = large_jpeg();
    let (server, token, id) = ChildServer::warmed_up().await;
    let before = server.peak_rss();

    let sixteen = (0..16).map(|_| server.uploaded(&token, &id, large.clone(), (600, 600)));
    futures_util::future::join_all(sixteen).await;
    let after = server.peak_rss();

    eprintln!(
        "peak RSS: {} MiB before, {} MiB after sixteen 4096×4096 logos at once",
        before / MIB,
        after / MIB
    );
    // One such logo takes about 95 MiB to decode and scale: two at a time peaked at 263 MiB,
    // sixteen at once (no cap) at 1,470 MiB.
    assert!(after < 400_000_000, "{after}");
}
