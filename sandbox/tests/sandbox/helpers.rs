//! A spawned sandbox and a small HTTP client bound to one of its stores.
#![allow(dead_code)]

use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Sbx {
    pub handle: SandboxHandle,
    pub http: reqwest::Client,
    /// The first seeded store.
    pub store: StoreCredentials,
}

/// A sandbox with 2 stores of 30 products and 120 orders each.
pub async fn sandbox() -> Sbx {
    sandbox_with(|_| {}).await
}

/// A sandbox with a tweaked configuration.
pub async fn sandbox_with(tweak: impl FnOnce(&mut SandboxConfig)) -> Sbx {
    let mut config = SandboxConfig {
        stores: 2,
        orders: 120,
        products: 30,
        ..SandboxConfig::default()
    };
    tweak(&mut config);
    let handle = Sandbox::spawn(config).unwrap();
    let store = handle.first_store();
    Sbx {
        handle,
        http: reqwest::Client::new(),
        store,
    }
}

/// An answer: status, headers and the body parsed as JSON (`Value::Null` when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Sbx {
    /// `{url}/stores/{hash}/{path}` of the first store.
    pub fn api(&self, path: &str) -> String {
        format!(
            "{}/stores/{}/{}",
            self.handle.url,
            self.store.hash,
            path.trim_start_matches('/')
        )
    }

    /// Sends a request to the first store with its full-access token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_as(&self.store.access_token.clone(), method, path, body)
            .await
    }

    /// Sends a request to the first store with `token`.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .http
            .request(method, self.api(path))
            .header("X-Auth-Token", token)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Calls a control endpoint (`/_sandbox/...`).
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.handle.url, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.unwrap()).await
    }
}

pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}
