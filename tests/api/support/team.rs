//! The people and keys of an account: invitations, members with a role, API keys, and a
//! second server on the same database.

use serde_json::{json, Value};

use super::app::TestApp;
use super::graphql::PASSWORD;
use orderdeck::config::Secret;

/// `inviteUser` with the account of `token`; its payload (`invitation`, `code`, `userErrors`).
pub const INVITE: &str = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { id email role expiresAt } code userErrors { field code message } } }";

/// `createApiKey`; its payload (`apiKey`, `secret`, `userErrors`).
pub const CREATE_KEY: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id name role hint createdAt lastUsedAt revokedAt } secret userErrors { field code message } } }";

impl TestApp {
    /// Invites `email` with `role` into the account of `token`: the `inviteUser` payload.
    pub async fn invite(&self, token: &str, email: &str, role: &str) -> Value {
        self.data(
            Some(token),
            INVITE,
            json!({ "i": { "email": email, "role": role } }),
        )
        .await["inviteUser"]
            .clone()
    }

    /// Registers with an invitation code: the `register` payload.
    pub async fn register_invited(&self, email: &str, code: &str) -> Value {
        self.data(
            None,
            "mutation($i: RegisterInput!) { register(input: $i) { user { id email role account { id name } } userErrors { field code message } } }",
            json!({ "i": { "email": email, "password": PASSWORD, "invitationCode": code } }),
        )
        .await["register"]
            .clone()
    }

    /// Invites `email` with `role` into the account of `token`, registers it with the code
    /// and logs it in: its token.
    pub async fn member(&self, token: &str, email: &str, role: &str) -> String {
        let invited = self.invite(token, email, role).await;
        assert_eq!(invited["userErrors"], json!([]), "{invited}");
        let code = invited["code"].as_str().unwrap();
        let joined = self.register_invited(email, code).await;
        assert_eq!(joined["userErrors"], json!([]), "{joined}");
        assert_eq!(joined["user"]["role"], role, "{joined}");
        let login = self.login(email, PASSWORD).await;
        login["token"].as_str().unwrap().to_string()
    }

    /// Creates an API key with `role` in the account of `token`: its secret.
    pub async fn api_key(&self, token: &str, name: &str, role: &str) -> String {
        let created = self
            .data(
                Some(token),
                CREATE_KEY,
                json!({ "i": { "name": name, "role": role } }),
            )
            .await["createApiKey"]
            .clone();
        assert_eq!(created["userErrors"], json!([]), "{created}");
        created["secret"].as_str().unwrap().to_string()
    }

    /// A second server on this app's database and secret key, as another replica would be.
    pub async fn replica(&self) -> TestApp {
        let url = self.db_url();
        let key = self.state.settings.secret_key.clone();
        let api = self.state.settings.bigcommerce_api_url.clone();
        TestApp::builder()
            .settings(move |s| {
                s.database_url = Some(Secret::new(url));
                s.secret_key = key;
                s.bigcommerce_api_url = api;
            })
            .spawn()
            .await
    }
}
