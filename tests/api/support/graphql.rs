//! A small GraphQL client on [`TestApp`]: posting operations, accounts, connecting stores;
//! reading user errors and error codes.

use serde_json::{json, Value};

use super::app::TestApp;
use super::sandbox::store_input;

/// The password every test account registers with.
pub const PASSWORD: &str = "correct horse battery";

/// The caller's user and account.
pub const ME: &str = "{ me { id email account { id name } } }";

const CHANGE_PASSWORD: &str = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { revokedSessions userErrors { field code message } } }";

/// Every scalar field of `Integration`, for selections in tests.
pub const INTEGRATION_FIELDS: &str = "id channel status storeHash clientId accessTokenLast4 alias storeName storeCurrency orderManagement inventoryManagement historicalImport historicalImportSince importOrdersSince iossNumber returnAddress { name company street1 street2 city state postalCode countryCode } phone phoneMode email emailMode logo { contentType width height byteSize sha256 url } connectedAt disconnectedAt connectedVia webhooks { state error destination registeredAt lastDeliveryAt }";

/// The global id of the integration with this row id.
pub fn integration_gid(id: i64) -> String {
    format!("gid://orderdeck/Integration/{id}")
}

/// The global id of the order with this row id.
pub fn order_gid(id: i64) -> String {
    format!("gid://orderdeck/Order/{id}")
}

/// The codes of a payload's userErrors.
pub fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

/// The top-level error code of a response.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// Runs `document` with `variables` as `token`'s caller, in-process through the served
    /// schema, over another connection to the same database that counts SQL statements: the
    /// statements it took and the data (errors fail the test).
    pub async fn counting_statements(
        &self,
        token: &str,
        document: &str,
        variables: Value,
    ) -> (u64, Value) {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let counter = Arc::new(AtomicU64::new(0));
        let mut db = sea_orm::Database::connect(self.db_url()).await.unwrap();
        let c = counter.clone();
        db.set_metric_callback(move |m| {
            c.fetch_add(1, Ordering::SeqCst);
            if std::env::var_os("SHOW_SQL").is_some() {
                eprintln!("SQL {}", &m.statement.sql[..m.statement.sql.len().min(90)]);
            }
        });
        let mut state = self.state.clone();
        state.db = db;
        let schema = orderdeck::graphql::schema_builder()
            .data(state.clone())
            .finish();
        let principal = orderdeck::services::sessions::authenticate(&self.state, token)
            .await
            .unwrap();
        let request = async_graphql::Request::new(document)
            .variables(async_graphql::Variables::from_json(variables));
        let request = orderdeck::graphql::attach_loaders(
            request.data(orderdeck::graphql::RequestData {
                principal,
                ..Default::default()
            }),
            &state,
            principal.unwrap().account_id,
        );
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        (
            counter.load(Ordering::SeqCst),
            response.data.into_json().unwrap(),
        )
    }

    /// Posts a GraphQL operation and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "GraphQL answered HTTP {}", res.status());
        res.json().await.unwrap()
    }

    /// Posts and returns `data`, failing the test on any top-level error.
    pub async fn data(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn register(&self, account: &str, email: &str) -> Value {
        self.data(
            None,
            "mutation($i: RegisterInput!) { register(input: $i) { user { id email account { id name } } userErrors { field code message } } }",
            json!({ "i": { "accountName": account, "email": email, "password": PASSWORD } }),
        )
        .await["register"]
            .clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.data(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { token expiresAt user { email } userErrors { field code message } } }",
            json!({ "i": { "email": email, "password": password } }),
        )
        .await["login"]
            .clone()
    }

    /// Calls `changePassword` with `token` (or none): the whole response.
    pub async fn change_password(&self, token: Option<&str>, current: &str, new: &str) -> Value {
        self.gql(
            token,
            CHANGE_PASSWORD,
            json!({ "i": { "currentPassword": current, "newPassword": new } }),
        )
        .await
    }

    /// Asserts that `email` logs in with `valid` and not with `stale`.
    pub async fn assert_password(&self, email: &str, valid: &str, stale: &str) {
        let login = self.login(email, valid).await;
        assert!(login["token"].is_string(), "{login}");
        let refused = self.login(email, stale).await;
        assert_eq!(codes(&refused), vec!["INVALID_CREDENTIALS"], "{refused}");
    }

    /// Whether `token` is accepted.
    pub async fn token_works(&self, token: &str) -> bool {
        self.gql(Some(token), ME, json!({})).await["errors"].is_null()
    }

    /// Registers a fresh account and returns a bearer token for it.
    pub async fn signed_in(&self, email: &str) -> String {
        let reg = self.register(&format!("Company of {email}"), email).await;
        assert_eq!(reg["userErrors"], json!([]), "{reg}");
        let login = self.login(email, PASSWORD).await;
        login["token"].as_str().unwrap().to_string()
    }

    /// Calls `connectBigCommerce` with `input` merged over the first sandbox store's
    /// credentials.
    pub async fn connect(&self, token: &str, input: Value) -> Value {
        let merged = store_input(&self.store, input);
        self.data(
            Some(token),
            &format!("mutation($i: ConnectBigCommerceInput!) {{ connectBigCommerce(input: $i) {{ integration {{ {INTEGRATION_FIELDS} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": merged }),
        )
        .await["connectBigCommerce"]
            .clone()
    }

    /// Registers `email`, connects the first sandbox store through the API and returns the
    /// bearer token and the integration row (for driving imports directly).
    pub async fn connected(
        &self,
        email: &str,
    ) -> (String, orderdeck::entities::integration::Model) {
        self.connected_with(email, json!({})).await
    }

    /// Like [`TestApp::connected`], with extra `connectBigCommerce` input fields.
    pub async fn connected_with(
        &self,
        email: &str,
        extra: Value,
    ) -> (String, orderdeck::entities::integration::Model) {
        use sea_orm::EntityTrait;
        let token = self.signed_in(email).await;
        let res = self.connect(&token, extra).await;
        assert_eq!(res["userErrors"], json!([]), "{res}");
        let gid = res["integration"]["id"].as_str().unwrap();
        let id: i64 = gid.rsplit('/').next().unwrap().parse().unwrap();
        let row = orderdeck::entities::integration::Entity::find_by_id(id)
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap();
        orderdeck::sync::jobs::ensure_jobs(&self.state.db, &row)
            .await
            .unwrap();
        (token, row)
    }

    /// How many integrations the account of `token` has, through the API.
    pub async fn integration_count(&self, token: &str) -> u64 {
        self.data(Some(token), "{ integrations { totalCount } }", json!({}))
            .await["integrations"]["totalCount"]
            .as_u64()
            .unwrap()
    }

    /// Calls `syncNow` for the integration `gid` (`kind` null: products then orders) and
    /// returns its payload (`runs`, `userErrors`).
    pub async fn sync_now(&self, token: &str, gid: &str, kind: Option<&str>) -> Value {
        self.data(
            Some(token),
            "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { kind outcome created updated unchanged error } userErrors { field code message } } }",
            json!({ "i": { "integrationId": gid, "kind": kind } }),
        )
        .await["syncNow"]
            .clone()
    }

    /// Claims an installation for the account of `token`: the payload.
    pub async fn claim(&self, token: &str, input: Value) -> Value {
        self.gql(
            Some(token),
            &format!("mutation($i: ClaimBigCommerceInstallationInput!) {{ claimBigCommerceInstallation(input: $i) {{ integration {{ {INTEGRATION_FIELDS} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await["data"]["claimBigCommerceInstallation"]
            .clone()
    }
}
