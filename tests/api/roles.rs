//! Roles: the role matrix (every root field and route × every role, and API keys), and what
//! owners, admins, staff and viewers of one account can and cannot do.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{
    a_second_passes, codes, error_code, png, send_multipart, shop, Shop, TestApp, CREATE_KEY,
    PASSWORD,
};

/// The roles that may use a field.
#[derive(Clone, Copy, Debug)]
enum Allowed {
    /// Anyone, with or without a token.
    Public,
    /// Every user about itself; API keys are refused.
    Own,
    /// Every role.
    Read,
    /// OWNER, ADMIN and STAFF.
    Staff,
    /// OWNER and ADMIN.
    Admin,
}

impl Allowed {
    fn lets(self, actor: &Actor) -> bool {
        match self {
            Allowed::Public => true,
            Allowed::Own => !actor.key,
            Allowed::Read => true,
            Allowed::Staff => actor.role != "VIEWER",
            Allowed::Admin => matches!(actor.role, "OWNER" | "ADMIN"),
        }
    }
}

/// One root field as the matrix sends it.
struct Case {
    field: &'static str,
    mutation: bool,
    document: &'static str,
    variables: Value,
    /// Sent as a multipart request with a logo in `variables.input.file`.
    upload: bool,
    allowed: Allowed,
}

/// A bogus global id of `kind`: allowed callers get `NOT_FOUND` or null, never `FORBIDDEN`.
fn missing(kind: &str) -> String {
    format!("gid://orderdeck/{kind}/999999")
}

fn query(field: &'static str, document: &'static str, variables: Value, allowed: Allowed) -> Case {
    Case {
        field,
        mutation: false,
        document,
        variables,
        upload: false,
        allowed,
    }
}

fn mutation(field: &'static str, document: &'static str, input: Value, allowed: Allowed) -> Case {
    Case {
        field,
        mutation: true,
        document,
        variables: json!({ "i": input }),
        upload: false,
        allowed,
    }
}

/// Every root field of the schema, with the roles that may use it. `logout` comes last: it
/// ends the caller's session.
fn matrix(email: &str) -> Vec<Case> {
    use Allowed::{Admin, Own, Public, Read, Staff};
    vec![
        query("me", "{ me { id role } }", json!({}), Own),
        query("sessions", "{ sessions { id current } }", json!({}), Own),
        query("auditEvents", "{ auditEvents { totalCount } }", json!({}), Admin),
        query("integrations", "{ integrations { totalCount } }", json!({}), Read),
        query("integration", "query($id: ID!) { integration(id: $id) { id } }", json!({ "id": missing("Integration") }), Read),
        query("products", "{ products { totalCount } }", json!({}), Read),
        query("product", "{ product(sku: \"NO-SUCH\") { id } }", json!({}), Read),
        query("lowStockProducts", "{ lowStockProducts { totalCount } }", json!({}), Read),
        query("stockMovements", "query($id: ID!) { stockMovements(productId: $id) { totalCount } }", json!({ "id": missing("Product") }), Read),
        query("orders", "{ orders { totalCount } }", json!({}), Read),
        query("order", "query($id: ID!) { order(id: $id) { id } }", json!({ "id": missing("Order") }), Read),
        query("orderMerge", "query($id: ID!) { orderMerge(id: $id) { id } }", json!({ "id": missing("OrderMerge") }), Read),
        query("ordersMergeCandidates", "{ ordersMergeCandidates { orders { id } } }", json!({}), Read),
        query("batch", "query($id: ID!) { batch(id: $id) { id } }", json!({ "id": missing("Batch") }), Read),
        query("syncRuns", "{ syncRuns { totalCount } }", json!({}), Read),
        query("users", "{ users { id email role lastLoginAt } }", json!({}), Admin),
        query("invitations", "{ invitations { id email role } }", json!({}), Admin),
        query("apiKeys", "{ apiKeys { id name role } }", json!({}), Admin),
        mutation("register", "mutation($i: RegisterInput!) { register(input: $i) { user { id } userErrors { code } } }", json!({ "accountName": "Taken", "email": email, "password": PASSWORD }), Public),
        mutation("login", "mutation($i: LoginInput!) { login(input: $i) { token userErrors { code } } }", json!({ "email": email, "password": "not the password at all" }), Public),
        mutation("changePassword", "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { revokedSessions userErrors { code } } }", json!({ "currentPassword": "not the password at all", "newPassword": "another long password 42" }), Own),
        mutation("connectBigCommerce", "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { code } } }", json!({ "storeHash": "nosuch1", "clientId": "x", "accessToken": "y", "alias": "Matrix" }), Admin),
        mutation("claimBigCommerceInstallation", "mutation($i: ClaimBigCommerceInstallationInput!) { claimBigCommerceInstallation(input: $i) { integration { id } userErrors { code } } }", json!({ "code": "no-such-code", "alias": "Matrix" }), Admin),
        mutation("updateIntegration", "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { id } userErrors { code } } }", json!({ "id": missing("Integration"), "alias": "Matrix" }), Admin),
        mutation("disconnectIntegration", "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { integration { id } userErrors { code } } }", json!({ "id": missing("Integration") }), Admin),
        Case {
            field: "uploadIntegrationLogo",
            mutation: true,
            document: "mutation($input: UploadIntegrationLogoInput!) { uploadIntegrationLogo(input: $input) { integration { id } userErrors { code } } }",
            variables: json!({ "input": { "integrationId": missing("Integration"), "file": null } }),
            upload: true,
            allowed: Admin,
        },
        mutation("removeIntegrationLogo", "mutation($i: RemoveIntegrationLogoInput!) { removeIntegrationLogo(input: $i) { integration { id } userErrors { code } } }", json!({ "integrationId": missing("Integration") }), Admin),
        mutation("syncNow", "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { id } userErrors { code } } }", json!({ "integrationId": missing("Integration") }), Staff),
        mutation("setStock", "mutation($i: SetStockInput!) { setStock(input: $i) { product { id } movement { id } userErrors { code } } }", json!({ "sku": "NO-SUCH", "quantity": 1, "reason": "Count" }), Admin),
        mutation("adjustStock", "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { id } movement { id } userErrors { code } } }", json!({ "sku": "NO-SUCH", "delta": 1, "reason": "Found one" }), Staff),
        mutation("setLowStockThreshold", "mutation($i: SetLowStockThresholdInput!) { setLowStockThreshold(input: $i) { product { id } userErrors { code } } }", json!({ "sku": "NO-SUCH", "threshold": 5 }), Admin),
        mutation("createBundle", "mutation($i: CreateBundleInput!) { createBundle(input: $i) { product { id } userErrors { code } } }", json!({ "sku": "MATRIX-SET", "name": "Set", "components": [{ "sku": "NO-SUCH", "quantity": 1 }] }), Admin),
        mutation("updateBundleComponents", "mutation($i: UpdateBundleComponentsInput!) { updateBundleComponents(input: $i) { product { id } userErrors { code } } }", json!({ "sku": "NO-SUCH", "components": [{ "sku": "NO-SUCH-2", "quantity": 1 }] }), Admin),
        mutation("deleteBundle", "mutation($i: DeleteBundleInput!) { deleteBundle(input: $i) { product { id } userErrors { code } } }", json!({ "sku": "NO-SUCH" }), Admin),
        mutation("setListingStockBuffer", "mutation($i: SetListingStockBufferInput!) { setListingStockBuffer(input: $i) { listing { id } userErrors { code } } }", json!({ "listingId": missing("Listing"), "stockBuffer": null }), Admin),
        Case {
            field: "importStockCounts",
            mutation: true,
            document: "mutation($input: ImportStockCountsInput!) { importStockCounts(input: $input) { result { applied } userErrors { code } } }",
            variables: json!({ "input": { "file": null, "mode": "SET", "dryRun": true, "reason": "Matrix" } }),
            upload: true,
            allowed: Admin,
        },
        mutation("exportStock", "mutation { exportStock { link { url } userErrors { code } } }", json!({}), Read),
        mutation("setBinLocation", "mutation($i: SetBinLocationInput!) { setBinLocation(input: $i) { product { id } userErrors { code } } }", json!({ "sku": "NO-SUCH", "binLocation": "A-1" }), Staff),
        mutation("deleteProduct", "mutation($i: DeleteProductInput!) { deleteProduct(input: $i) { deletedProductId userErrors { code } } }", json!({ "sku": "NO-SUCH" }), Admin),
        mutation("cancelOrder", "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id } userErrors { code } } }", json!({ "orderId": missing("Order") }), Staff),
        mutation("updatePrice", "mutation($i: UpdatePriceInput!) { updatePrice(input: $i) { listing { id } userErrors { code } } }", json!({ "listingId": missing("Listing"), "price": "9.99" }), Admin),
        mutation("createDocumentLink", "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) { link { url } userErrors { code } } }", json!({ "kind": "INVOICE", "orderIds": [missing("Order")] }), Staff),
        mutation("shipOrders", "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { orderId } userErrors { code } } }", json!({ "shipments": [{ "orderId": missing("Order"), "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z" }] }), Staff),
        mutation("mergeOrders", "mutation($i: MergeOrdersInput!) { mergeOrders(input: $i) { merge { id } userErrors { code } } }", json!({ "orderIds": [missing("Order"), "gid://orderdeck/Order/999998"] }), Staff),
        mutation("unmergeOrders", "mutation($i: UnmergeOrdersInput!) { unmergeOrders(input: $i) { orders { id } userErrors { code } } }", json!({ "mergeId": missing("OrderMerge") }), Staff),
        mutation("createBatch", "mutation($i: CreateBatchInput!) { createBatch(input: $i) { batch { id } userErrors { code } } }", json!({ "orderIds": [missing("Order")], "method": "LABEL" }), Staff),
        mutation("retryShipmentPush", "mutation($i: RetryShipmentPushInput!) { retryShipmentPush(input: $i) { shipment { id } userErrors { code } } }", json!({ "shipmentId": missing("Shipment") }), Staff),
        mutation("inviteUser", "mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { id } code userErrors { code } } }", json!({ "email": "matrix-invite@example.com", "role": "STAFF" }), Admin),
        mutation("revokeInvitation", "mutation($i: RevokeInvitationInput!) { revokeInvitation(input: $i) { invitation { id } userErrors { code } } }", json!({ "id": missing("Invitation") }), Admin),
        mutation("updateUserRole", "mutation($i: UpdateUserRoleInput!) { updateUserRole(input: $i) { user { id } userErrors { code } } }", json!({ "userId": missing("User"), "role": "STAFF" }), Admin),
        mutation("removeUser", "mutation($i: RemoveUserInput!) { removeUser(input: $i) { user { id } userErrors { code } } }", json!({ "userId": missing("User") }), Admin),
        mutation("createApiKey", "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret userErrors { code } } }", json!({ "name": "Matrix", "role": "VIEWER" }), Admin),
        mutation("revokeApiKey", "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id } userErrors { code } } }", json!({ "id": missing("ApiKey") }), Admin),
        mutation("revokeSession", "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { session { id } userErrors { code } } }", json!({ "id": missing("Session") }), Own),
        mutation("logout", "mutation { logout { revokedSessions userErrors { code } } }", json!({}), Own),
    ]
}

/// Every subscription field, with the roles that may use it. The matrix sends them all on
/// one connection per caller, each under its own name as the subscription id.
fn subscriptions() -> Vec<(&'static str, &'static str, Allowed)> {
    use Allowed::Read;
    vec![
        ("orderChanged", "subscription { orderChanged { id } }", Read),
        (
            "stockChanged",
            "subscription { stockChanged { product { sku stock } } }",
            Read,
        ),
        (
            "pushFailed",
            "subscription { pushFailed { listing { id } shipment { id } } }",
            Read,
        ),
        (
            "syncRunFinished",
            "subscription { syncRunFinished { id } }",
            Read,
        ),
    ]
}

/// Who sends the matrix.
struct Actor {
    name: String,
    role: &'static str,
    key: bool,
    token: String,
}

/// Whether the answer refuses the field for the caller's role, checking the refusal's shape:
/// a query field is null with a top-level `FORBIDDEN` error; a mutation answers `FORBIDDEN` in
/// its payload, alone, with nothing else set.
fn refused(case: &Case, body: &Value, who: &str) -> bool {
    let what = format!("{} by {who}: {body}", case.field);
    if case.mutation {
        let payload = &body["data"][case.field];
        assert!(payload["userErrors"].is_array(), "{what}");
        let forbidden = codes(payload).contains(&"FORBIDDEN".to_string());
        if forbidden {
            assert_eq!(codes(payload), ["FORBIDDEN"], "{what}");
            for (k, v) in payload.as_object().unwrap() {
                let empty = v.is_null() || *v == json!(0) || *v == json!([]);
                assert!(k == "userErrors" || empty, "{what}");
            }
        }
        forbidden
    } else {
        let forbidden = error_code(body) == "FORBIDDEN";
        if forbidden {
            assert!(
                body["data"].is_null() || body["data"][case.field].is_null(),
                "{what}"
            );
        }
        forbidden
    }
}

async fn send(app: &TestApp, token: &str, case: &Case) -> Value {
    if case.upload {
        let res = send_multipart(
            app,
            Some(token),
            case.document,
            case.variables.clone(),
            png(8, 8, 1),
            "logo.png",
            "image/png",
        )
        .await;
        assert_eq!(res.status(), 200, "{}", case.field);
        res.json().await.unwrap()
    } else {
        app.gql(Some(token), case.document, case.variables.clone())
            .await
    }
}

/// The root fields the server serves, by introspection.
async fn served_root_fields(app: &TestApp, token: &str) -> BTreeSet<String> {
    let data = app
        .data(
            Some(token),
            "{ __schema { queryType { fields { name } } mutationType { fields { name } } \
             subscriptionType { fields { name } } } }",
            json!({}),
        )
        .await;
    let mut names = BTreeSet::new();
    for root in ["queryType", "mutationType", "subscriptionType"] {
        for f in data["__schema"][root]["fields"].as_array().unwrap() {
            names.insert(f["name"].as_str().unwrap().to_string());
        }
    }
    names
}

/// The status of `GET path` with `token`.
async fn route_status(app: &TestApp, token: &str, path: &str) -> u16 {
    app.http
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_field_and_route_answers_each_role_as_the_role_matrix_says() {
    let s = shop("matrix-owner@example.com").await;
    let app = &s.app;
    let mut actors = vec![Actor {
        name: "OWNER".into(),
        role: "OWNER",
        key: false,
        token: s.token.clone(),
    }];
    for role in ["ADMIN", "STAFF", "VIEWER"] {
        let email = format!("matrix-{}@example.com", role.to_lowercase());
        actors.push(Actor {
            name: role.into(),
            role,
            key: false,
            token: app.member(&s.token, &email, role).await,
        });
    }
    for role in ["OWNER", "ADMIN", "STAFF", "VIEWER"] {
        actors.push(Actor {
            name: format!("API key {role}"),
            role,
            key: true,
            token: app.api_key(&s.token, &format!("matrix {role}"), role).await,
        });
    }

    // Every served root field has a row: a new resolver fails here until the matrix says who
    // may use it.
    let served = served_root_fields(app, &s.token).await;
    let rows: BTreeSet<String> = matrix("x@example.com")
        .iter()
        .map(|c| c.field.to_string())
        .chain(
            subscriptions()
                .iter()
                .map(|(field, _, _)| field.to_string()),
        )
        .collect();
    assert_eq!(
        served, rows,
        "the role matrix and the schema's root fields differ"
    );

    // Routes: downloads with a token need PrintDocuments; logos need Read.
    for actor in &actors {
        let documents =
            route_status(app, &actor.token, "/documents/invoices.pdf?orderIds=999999").await;
        let logo = route_status(app, &actor.token, "/integrations/999999/logo").await;
        // Allowed callers get past the role check to the order lookup (400 or 404).
        assert_eq!(
            documents == 403,
            actor.role == "VIEWER",
            "documents by {}: {documents}",
            actor.name
        );
        assert_ne!(documents, 401, "documents by {}", actor.name);
        assert_eq!(logo, 404, "logo by {}", actor.name);
    }

    subscriptions_answer_each_role_as_the_matrix_says(&s, &actors).await;

    for actor in &actors {
        for case in matrix("matrix-owner@example.com") {
            let body = send(app, &actor.token, &case).await;
            assert_ne!(
                error_code(&body),
                "UNAUTHENTICATED",
                "{} by {}: {body}",
                case.field,
                actor.name
            );
            let expected = !case.allowed.lets(actor);
            assert_eq!(
                refused(&case, &body, &actor.name),
                expected,
                "{} by {}: {} expected, got {body}",
                case.field,
                actor.name,
                if expected {
                    "FORBIDDEN"
                } else {
                    "no FORBIDDEN"
                }
            );
        }
    }
}

/// Each caller subscribes to every subscription field on one connection; a stock change then
/// reaches every caller allowed `stockChanged`, and a refused field answers `FORBIDDEN`.
async fn subscriptions_answer_each_role_as_the_matrix_says(s: &Shop, actors: &[Actor]) {
    s.stocked(&[("MATRIX-SUB", 5)]).await;
    let mut connections = Vec::new();
    for actor in actors {
        let mut c = s.app.ws(Some(&actor.token)).await;
        let ack = c.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(ack["type"], "connection_ack", "{} : {ack}", actor.name);
        for (field, document, _) in subscriptions() {
            c.send(json!({ "id": field, "type": "subscribe", "payload": { "query": document } }))
                .await;
        }
        connections.push(c);
    }
    for c in &mut connections {
        c.send(json!({ "type": "ping" })).await;
    }
    a_second_passes().await;
    let adjusted = s
        .adjust_stock(json!({ "sku": "MATRIX-SUB", "delta": -1, "reason": "Matrix" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");

    for (actor, c) in actors.iter().zip(&mut connections) {
        let mut refused = BTreeSet::new();
        let mut heard = false;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !heard {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = c.next(left).await else { break };
            let id = m["id"].as_str().unwrap_or_default().to_string();
            match m["type"].as_str() {
                Some("pong" | "complete") => {}
                Some("next") if m["payload"]["errors"].is_array() => {
                    assert_eq!(
                        m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
                        "{id} by {}: {m}",
                        actor.name
                    );
                    refused.insert(id);
                }
                Some("next") => {
                    assert_eq!(id, "stockChanged", "{} heard {m}", actor.name);
                    assert_eq!(
                        m["payload"]["data"]["stockChanged"]["product"],
                        json!({ "sku": "MATRIX-SUB", "stock": 4 })
                    );
                    heard = true;
                }
                _ => panic!("{} got {m}", actor.name),
            }
        }
        for (field, _, allowed) in subscriptions() {
            assert_eq!(
                refused.contains(field),
                !allowed.lets(actor),
                "{field} by {}",
                actor.name
            );
        }
        let stock_allowed = subscriptions()
            .iter()
            .any(|(f, _, a)| *f == "stockChanged" && a.lets(actor));
        assert_eq!(heard, stock_allowed, "stockChanged by {}", actor.name);
    }
}

#[tokio::test]
async fn staff_and_viewers_do_not_read_store_settings_but_see_the_store() {
    let s = shop("settings-owner@example.com").await;
    let staff = s
        .app
        .member(&s.token, "settings-staff@example.com", "STAFF")
        .await;
    let viewer = s.app.api_key(&s.token, "viewer", "VIEWER").await;
    const FIELDS: &str = "{ integrations { edges { node { id alias phoneMode iossNumber returnAddress { city } phone email } } } }";

    let owner = s.app.gql(Some(&s.token), FIELDS, json!({})).await;
    assert!(owner.get("errors").is_none(), "{owner}");

    for token in [&staff, &viewer] {
        let body = s.app.gql(Some(token), FIELDS, json!({})).await;
        let node = &body["data"]["integrations"]["edges"][0]["node"];
        assert_eq!(node["id"], s.gid, "{body}");
        assert_eq!(
            node["alias"],
            owner["data"]["integrations"]["edges"][0]["node"]["alias"]
        );
        let errors = body["errors"].as_array().unwrap();
        let refused: BTreeSet<&str> = errors
            .iter()
            .map(|e| {
                assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{body}");
                e["path"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            refused,
            BTreeSet::from(["iossNumber", "returnAddress", "phone", "email"]),
            "{body}"
        );
        for field in ["iossNumber", "returnAddress", "phone", "email"] {
            assert!(node[field].is_null(), "{body}");
        }
    }
}

#[tokio::test]
async fn an_invited_staff_member_ships_and_prints_but_cannot_change_prices_stock_or_stores() {
    let s = shop("staff-owner@example.com").await;
    let ids = s.stocked(&[("MUG", 20)]).await;
    a_second_passes().await;
    let number = s.place(json!([{ "sku": "MUG", "quantity": 2 }])).await;
    s.import("ORDERS").await;
    let order = s.order(number).await;
    let order_id = order["id"].as_str().unwrap();
    let staff = s.app.member(&s.token, "packer@example.com", "STAFF").await;
    let listing = s
        .app
        .data(
            Some(&s.token),
            "{ product(sku: \"MUG\") { listings { id price } } }",
            json!({}),
        )
        .await["product"]["listings"][0]
        .clone();
    let snapshot = || async {
        (
            s.product("MUG").await,
            s.ledger(&ids["MUG"]).await,
            s.app
                .data(Some(&s.token), "{ product(sku: \"MUG\") { listings { id price } } integrations { edges { node { id status alias } } } }", json!({}))
                .await,
        )
    };
    let before = snapshot().await;

    for (field, document, input) in [
        ("updatePrice", "mutation($i: UpdatePriceInput!) { updatePrice(input: $i) { listing { id price } userErrors { field code } } }", json!({ "listingId": listing["id"], "price": "1.00" })),
        ("setStock", "mutation($i: SetStockInput!) { setStock(input: $i) { product { stock } userErrors { field code } } }", json!({ "sku": "MUG", "quantity": 0, "reason": "Count" })),
        ("connectBigCommerce", "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { field code } } }", json!({ "storeHash": s.app.store.hash, "clientId": s.app.store.client_id, "accessToken": s.app.store.access_token, "alias": "Second" })),
        ("disconnectIntegration", "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { integration { status } userErrors { field code } } }", json!({ "id": s.gid })),
    ] {
        let payload = s.app.data(Some(&staff), document, json!({ "i": input })).await[field].clone();
        assert_eq!(codes(&payload), ["FORBIDDEN"], "{field}: {payload}");
    }
    assert_eq!(
        snapshot().await,
        before,
        "a refused mutation changed something"
    );

    let shipped = s
        .app
        .data(
            Some(&staff),
            "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { shipments { id } userErrors { code } } userErrors { code } } }",
            json!({ "i": { "shipments": [{ "orderId": order_id, "method": "MANUAL", "carrier": "UPS", "service": "Ground", "trackingNumber": "1Z999AA10123456784" }] } }),
        )
        .await["shipOrders"]
        .clone();
    assert_eq!(shipped["userErrors"], json!([]), "{shipped}");
    assert_eq!(shipped["results"][0]["userErrors"], json!([]), "{shipped}");
    let link = s
        .app
        .data(
            Some(&staff),
            "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) { link { url } userErrors { code } } }",
            json!({ "i": { "kind": "LABEL", "orderIds": [order_id] } }),
        )
        .await["createDocumentLink"]
        .clone();
    assert_eq!(link["userErrors"], json!([]), "{link}");
    let url = link["link"]["url"].as_str().unwrap();
    let pdf = s
        .app
        .http
        .get(format!("{}{url}", s.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(s.order(number).await["status"], "SHIPPED");
}

#[tokio::test]
async fn a_viewer_key_reads_orders_but_cannot_adjust_stock_and_a_revoked_key_fails_at_once_on_every_replica(
) {
    let s = shop("keys-owner@example.com").await;
    s.stocked(&[("MUG", 5)]).await;
    a_second_passes().await;
    let number = s.place(json!([{ "sku": "MUG", "quantity": 1 }])).await;
    s.import("ORDERS").await;
    let created = s
        .app
        .data(
            Some(&s.token),
            CREATE_KEY,
            json!({ "i": { "name": "ERP export", "role": "VIEWER" } }),
        )
        .await["createApiKey"]
        .clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("odk_live_"), "{created}");
    assert_eq!(
        created["apiKey"]["hint"],
        format!("odk_live_…{}", &secret[secret.len() - 4..])
    );
    let replica = s.app.replica().await;

    for app in [&s.app, &replica] {
        let orders = app
            .data(Some(&secret), "{ orders { totalCount } }", json!({}))
            .await;
        assert_eq!(orders["orders"]["totalCount"], 1, "{orders}");
    }
    assert!(s.order(number).await["id"].is_string());
    let adjusted = s
        .app
        .data(
            Some(&secret),
            "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { stock } userErrors { code } } }",
            json!({ "i": { "sku": "MUG", "delta": 3, "reason": "Found" } }),
        )
        .await["adjustStock"]
        .clone();
    assert_eq!(codes(&adjusted), ["FORBIDDEN"], "{adjusted}");
    assert_eq!(s.stock("MUG").await, 4);
    let listed = s
        .app
        .data(
            Some(&s.token),
            "{ apiKeys { name role lastUsedAt revokedAt } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["apiKeys"][0]["name"], "ERP export");
    assert!(listed["apiKeys"][0]["lastUsedAt"].is_string(), "{listed}");

    let revoked = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } userErrors { code } } }",
            json!({ "i": { "id": created["apiKey"]["id"] } }),
        )
        .await["revokeApiKey"]
        .clone();
    assert!(revoked["apiKey"]["revokedAt"].is_string(), "{revoked}");
    for app in [&s.app, &replica] {
        let body = app
            .gql(Some(&secret), "{ orders { totalCount } }", json!({}))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
}

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { user { id email role account { id name } } userErrors { field code message } } }";

#[tokio::test]
async fn with_registration_by_invitation_a_code_is_needed_except_for_the_first_account_and_it_joins_the_inviting_account(
) {
    let app = TestApp::builder()
        .settings(|s| s.registration = orderdeck::config::Registration::Invite)
        .spawn()
        .await;
    let register = |email: &'static str, code: Option<String>| {
        let app = &app;
        async move {
            app.data(
                None,
                REGISTER,
                json!({ "i": { "accountName": "Company", "email": email, "password": PASSWORD, "invitationCode": code } }),
            )
            .await["register"]
                .clone()
        }
    };
    let first = register("first@example.com", None).await;
    assert_eq!(
        first["userErrors"],
        json!([]),
        "the first account of an empty instance: {first}"
    );
    assert_eq!(first["user"]["role"], "OWNER");
    let owner = app.login("first@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();

    let refused = register("second@example.com", None).await;
    assert_eq!(codes(&refused), ["REGISTRATION_CLOSED"], "{refused}");
    assert_eq!(app.rows("accounts").await, 1);

    let invited = app.invite(&owner, "second@example.com", "VIEWER").await;
    let code = invited["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("odi_"), "{invited}");
    let wrong_email = register("third@example.com", Some(code.clone())).await;
    assert_eq!(codes(&wrong_email), ["INVALID_INVITATION"], "{wrong_email}");
    let joined = register("second@example.com", Some(code.clone())).await;
    assert_eq!(joined["userErrors"], json!([]), "{joined}");
    assert_eq!(joined["user"]["role"], "VIEWER");
    assert_eq!(
        joined["user"]["account"]["id"],
        first["user"]["account"]["id"]
    );
    assert_eq!(app.rows("accounts").await, 1);
    let open = app
        .data(Some(&owner), "{ invitations { id } }", json!({}))
        .await;
    assert_eq!(
        open["invitations"],
        json!([]),
        "an accepted invitation is used up: {open}"
    );

    let users = app
        .data(
            Some(&owner),
            "{ users { email role lastLoginAt } }",
            json!({}),
        )
        .await;
    assert_eq!(
        users["users"],
        json!([
            { "email": "first@example.com", "role": "OWNER", "lastLoginAt": users["users"][0]["lastLoginAt"] },
            { "email": "second@example.com", "role": "VIEWER", "lastLoginAt": null },
        ]),
        "{users}"
    );
    assert!(users["users"][0]["lastLoginAt"].is_string(), "{users}");
}

#[tokio::test]
async fn with_registration_closed_no_account_is_created_but_an_invitation_still_joins() {
    let app = TestApp::builder()
        .settings(|s| s.registration = orderdeck::config::Registration::Closed)
        .spawn()
        .await;
    let refused = app
        .data(None, REGISTER, json!({ "i": { "accountName": "Company", "email": "closed@example.com", "password": PASSWORD } }))
        .await["register"]
        .clone();
    assert_eq!(codes(&refused), ["REGISTRATION_CLOSED"], "{refused}");
    assert_eq!(app.rows("accounts").await, 0);
    assert_eq!(app.rows("users").await, 0);

    // An operator's account (made before registration was closed) still invites.
    let mut open = app.state.clone();
    open.settings = std::sync::Arc::new(orderdeck::config::Settings {
        registration: orderdeck::config::Registration::Open,
        ..(*app.state.settings).clone()
    });
    orderdeck::services::accounts::register(
        &open,
        orderdeck::services::accounts::RegisterInput {
            account_name: "Operator".into(),
            email: "operator@example.com".into(),
            password: PASSWORD.into(),
            invitation_code: None,
        },
    )
    .await
    .unwrap();
    let owner = app.login("operator@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let staff = app
        .member(&owner, "closed-staff@example.com", "STAFF")
        .await;
    assert!(app.token_works(&staff).await);
    assert_eq!(app.rows("accounts").await, 1);
}

const ROLE: &str = "mutation($i: UpdateUserRoleInput!) { updateUserRole(input: $i) { user { id role } userErrors { field code } } }";
const REMOVE: &str = "mutation($i: RemoveUserInput!) { removeUser(input: $i) { user { id } userErrors { field code } } }";

async fn user_id(app: &TestApp, token: &str) -> String {
    app.data(Some(token), "{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn only_owners_touch_owners_and_an_account_always_keeps_one() {
    let app = crate::support::spawn_app().await;
    let owner = app.signed_in("keep-owner@example.com").await;
    let admin = app.member(&owner, "keep-admin@example.com", "ADMIN").await;
    let owner_id = user_id(&app, &owner).await;
    let admin_id = user_id(&app, &admin).await;

    let last = app
        .data(
            Some(&owner),
            ROLE,
            json!({ "i": { "userId": owner_id, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(codes(&last["updateUserRole"]), ["LAST_OWNER"], "{last}");
    let removed_last = app
        .data(Some(&owner), REMOVE, json!({ "i": { "userId": owner_id } }))
        .await;
    assert_eq!(
        codes(&removed_last["removeUser"]),
        ["LAST_OWNER"],
        "{removed_last}"
    );

    for (document, input) in [
        (ROLE, json!({ "userId": owner_id, "role": "STAFF" })),
        (ROLE, json!({ "userId": admin_id, "role": "OWNER" })),
        (REMOVE, json!({ "userId": owner_id })),
    ] {
        let body = app
            .data(Some(&admin), document, json!({ "i": input }))
            .await;
        let payload = body.as_object().unwrap().values().next().unwrap();
        assert_eq!(codes(payload), ["FORBIDDEN"], "{body}");
    }
    let invite_owner = app.invite(&admin, "new-owner@example.com", "OWNER").await;
    assert_eq!(codes(&invite_owner), ["FORBIDDEN"], "{invite_owner}");

    // With a second owner, the first may step down.
    let promoted = app
        .data(
            Some(&owner),
            ROLE,
            json!({ "i": { "userId": admin_id, "role": "OWNER" } }),
        )
        .await;
    assert_eq!(
        promoted["updateUserRole"]["user"]["role"], "OWNER",
        "{promoted}"
    );
    let stepped_down = app
        .data(
            Some(&owner),
            ROLE,
            json!({ "i": { "userId": owner_id, "role": "VIEWER" } }),
        )
        .await;
    assert_eq!(
        stepped_down["updateUserRole"]["user"]["role"], "VIEWER",
        "{stepped_down}"
    );
    // The new role holds from the next request on.
    let refused = app.gql(Some(&owner), "{ users { id } }", json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
}

#[tokio::test]
async fn a_removed_user_loses_every_token_at_once_and_the_email_can_be_invited_again() {
    let app = crate::support::spawn_app().await;
    let owner = app.signed_in("remove-owner@example.com").await;
    let staff = app
        .member(&owner, "remove-staff@example.com", "STAFF")
        .await;
    let second = app.login("remove-staff@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let staff_id = user_id(&app, &staff).await;

    let removed = app
        .data(Some(&owner), REMOVE, json!({ "i": { "userId": staff_id } }))
        .await;
    assert_eq!(removed["removeUser"]["userErrors"], json!([]), "{removed}");
    for token in [&staff, &second] {
        assert!(!app.token_works(token).await);
    }
    let login = app.login("remove-staff@example.com", PASSWORD).await;
    assert_eq!(codes(&login), ["INVALID_CREDENTIALS"], "{login}");
    let again = app
        .invite(&owner, "remove-staff@example.com", "VIEWER")
        .await;
    assert_eq!(again["userErrors"], json!([]), "{again}");
}
