//! The BigCommerce sandbox from a test: store credentials as connect input, injected faults,
//! merchant and shopper actions, request counts, installing the test app.

use orderdeck_sandbox::server::StoreCredentials;
use serde_json::{json, Value};

use super::app::{TestApp, APP_CLIENT_ID};

/// Connect input for `store` (hash, client id, token) with `extra` merged over it.
pub fn store_input(store: &StoreCredentials, extra: Value) -> Value {
    let mut merged = json!({
        "storeHash": store.hash,
        "clientId": store.client_id,
        "accessToken": store.access_token,
    });
    if let (Some(m), Some(extra)) = (merged.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
    }
    merged
}

impl TestApp {
    /// Sets the injected faults of the first sandbox store (`PUT /_sandbox/stores/{hash}/faults`).
    pub async fn faults(&self, faults: Value) {
        let res = self
            .http
            .put(format!(
                "{}/_sandbox/stores/{}/faults",
                self.sandbox.url, self.store.hash
            ))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "setting faults {faults}");
    }

    /// Clears the injected faults of the first sandbox store.
    pub async fn clear_faults(&self) {
        let res = self
            .http
            .delete(format!(
                "{}/_sandbox/stores/{}/faults",
                self.sandbox.url, self.store.hash
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    /// `GET /v2/store` requests the first sandbox store received.
    pub fn store_calls(&self) -> u64 {
        self.sandbox.count(&self.store.hash, "GET /v2/store")
    }

    /// Every API request the sandbox received, for any store.
    pub fn sandbox_requests(&self) -> usize {
        orderdeck_sandbox::server::lock(&self.sandbox.state)
            .request_log
            .len()
    }

    /// A merchant or shopper action on a sandbox store (`/_sandbox/stores/{hash}/{path}`);
    /// fails the test unless it succeeds; its JSON answer (null when empty).
    pub async fn sandbox_action(
        &self,
        hash: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Value {
        let res = self
            .http
            .request(
                method.clone(),
                format!("{}/_sandbox/stores/{hash}/{path}", self.sandbox.url),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A BigCommerce API call (`/stores/{hash}/{path}`) with the store's full-access token,
    /// as another app of the merchant would make it; fails the test unless it succeeds.
    pub async fn store_api(
        &self,
        store: &StoreCredentials,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(
                method.clone(),
                format!("{}/stores/{}/{path}", self.sandbox.url, store.hash),
            )
            .header("X-Auth-Token", &store.access_token)
            .header("X-Auth-Client", &store.client_id)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A sandbox control call under `/_sandbox/{path}`: its status and JSON answer.
    pub async fn sandbox_control(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sandbox.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The merchant installs the test app on the first sandbox store and the browser opens
    /// the auth callback: the claim code the page shows (needs a `public()` app).
    pub async fn install_app(&self) -> String {
        let (status, install) = self
            .sandbox_control(
                &format!("apps/{APP_CLIENT_ID}/install"),
                json!({ "store_hash": self.store.hash }),
            )
            .await;
        assert_eq!(status, 201, "{install}");
        let url = install["auth_callback_url"].as_str().unwrap();
        let res = self.http.get(url).send().await.unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        let start = html
            .find("id=\"claim-code\">")
            .expect("a claim code on the page")
            + "id=\"claim-code\">".len();
        let end = start + html[start..].find('<').unwrap();
        html[start..end].to_string()
    }
}
