//! Tenancy: an account never sees nor changes another account's integrations or logos, and
//! nothing answers without a token.

use serde_json::{json, Value};

use crate::support::{
    a_second_passes, adjust_stock, codes, create_link, error_code, get, order_gid,
    order_to_germany, png, product, send_multipart, shop, shop_with_options, spawn_app,
    store_options, text, upload_payload, TestApp, INTEGRATION_FIELDS, LINK,
};

/// What another account must get back from an operation on an integration not its own.
enum Foreign {
    /// The query field is null.
    Null,
    /// The list is empty.
    EmptyList,
    /// The mutation's payload has exactly `NOT_FOUND` on this input field, and no integration.
    NotFound(&'static str),
}

/// One operation of the API on an integration.
struct Operation {
    /// The root field.
    field: &'static str,
    document: &'static str,
    /// The variables, given the integration's global id.
    variables: fn(&str) -> Value,
    /// Sent as a multipart request carrying a logo in `variables.input.file`.
    upload: bool,
    foreign: Foreign,
}

fn operations() -> Vec<Operation> {
    vec![
        Operation {
            field: "integration",
            document: "query($id: ID!) { integration(id: $id) { id alias status } }",
            variables: |id| json!({ "id": id }),
            upload: false,
            foreign: Foreign::Null,
        },
        Operation {
            field: "integrations",
            document: "{ integrations { totalCount edges { node { id } } } }",
            variables: |_| json!({}),
            upload: false,
            foreign: Foreign::EmptyList,
        },
        Operation {
            field: "updateIntegration",
            document: "mutation($input: UpdateIntegrationInput!) { updateIntegration(input: $input) { integration { id alias } userErrors { field code } } }",
            variables: |id| json!({ "input": { "id": id, "alias": "Taken over", "inventoryManagement": false } }),
            upload: false,
            foreign: Foreign::NotFound("id"),
        },
        Operation {
            field: "disconnectIntegration",
            document: "mutation($input: DisconnectIntegrationInput!) { disconnectIntegration(input: $input) { integration { id status } userErrors { field code } } }",
            variables: |id| json!({ "input": { "id": id } }),
            upload: false,
            foreign: Foreign::NotFound("id"),
        },
        Operation {
            field: "uploadIntegrationLogo",
            document: "mutation($input: UploadIntegrationLogoInput!) { uploadIntegrationLogo(input: $input) { integration { id } userErrors { field code } } }",
            variables: |id| json!({ "input": { "integrationId": id, "file": null } }),
            upload: true,
            foreign: Foreign::NotFound("integrationId"),
        },
        Operation {
            field: "removeIntegrationLogo",
            document: "mutation($input: RemoveIntegrationLogoInput!) { removeIntegrationLogo(input: $input) { integration { id } userErrors { field code } } }",
            variables: |id| json!({ "input": { "integrationId": id } }),
            upload: false,
            foreign: Foreign::NotFound("integrationId"),
        },
    ]
}

/// Sends `op` on integration `id` and returns the whole response (always HTTP 200).
async fn send(app: &TestApp, token: Option<&str>, op: &Operation, id: &str) -> Value {
    if op.upload {
        let res = send_multipart(
            app,
            token,
            op.document,
            (op.variables)(id),
            png(40, 40, 200),
            "logo.png",
            "image/png",
        )
        .await;
        assert_eq!(
            res.status(),
            200,
            "{} answered HTTP {}",
            op.field,
            res.status()
        );
        res.json().await.unwrap()
    } else {
        app.gql(token, op.document, (op.variables)(id)).await
    }
}

async fn logo_status(app: &TestApp, token: Option<&str>, url: &str) -> u16 {
    let mut req = app.http.get(format!("{}{url}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Every field of one integration, as its owner sees it.
async fn snapshot(app: &TestApp, token: &str, id: &str) -> Value {
    app.data(
        Some(token),
        &format!("query($id: ID!) {{ integration(id: $id) {{ {INTEGRATION_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["integration"]
        .clone()
}

/// Account A with a connected store that has a logo: (app, A's token, integration id, logo url).
async fn account_a_with_logo() -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    let token_a = app.signed_in("a@example.com").await;
    let connected = app.connect(&token_a, json!({ "alias": "A's shop" })).await;
    assert_eq!(connected["userErrors"], json!([]), "{connected}");
    let id = connected["integration"]["id"].as_str().unwrap().to_string();
    let uploaded = upload_payload(&app, &token_a, &id, png(64, 64, 1), "a.png", "image/png").await;
    assert_eq!(uploaded["userErrors"], json!([]), "{uploaded}");
    let url = uploaded["integration"]["logo"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    (app, token_a, id, url)
}

#[tokio::test]
async fn another_account_can_neither_see_nor_change_an_integration_or_its_logo() {
    let (app, token_a, id, url) = account_a_with_logo().await;
    let before = snapshot(&app, &token_a, &id).await;
    assert_eq!(before["status"], "ACTIVE");
    assert!(before["logo"].is_object(), "{before}");
    let token_b = app.signed_in("b@example.com").await;

    for op in operations() {
        let body = send(&app, Some(&token_b), &op, &id).await;
        assert!(body.get("errors").is_none(), "{}: {body}", op.field);
        let result = &body["data"][op.field];
        match op.foreign {
            Foreign::Null => assert!(result.is_null(), "{}: {body}", op.field),
            Foreign::EmptyList => {
                assert_eq!(result["totalCount"], 0, "{}: {body}", op.field);
                assert_eq!(result["edges"], json!([]), "{}: {body}", op.field);
            }
            Foreign::NotFound(field) => {
                assert_eq!(codes(result), ["NOT_FOUND"], "{}: {body}", op.field);
                assert_eq!(
                    result["userErrors"][0]["field"],
                    json!([field]),
                    "{}: {body}",
                    op.field
                );
                assert!(result["integration"].is_null(), "{}: {body}", op.field);
            }
        }
    }
    assert_eq!(logo_status(&app, Some(&token_b), &url).await, 404);

    // A's integration is exactly as it was, logo included.
    assert_eq!(snapshot(&app, &token_a, &id).await, before);
    assert_eq!(logo_status(&app, Some(&token_a), &url).await, 200);
    assert_eq!(app.integration_count(&token_a).await, 1);
    assert_eq!(app.rows("integrations").await, 1);
    assert_eq!(app.rows("integration_logos").await, 1);
}

#[tokio::test]
async fn every_operation_and_the_logo_route_require_a_token() {
    let (app, token_a, id, url) = account_a_with_logo().await;
    let before = snapshot(&app, &token_a, &id).await;

    for token in [None, Some("not-a-real-token")] {
        for op in operations() {
            let body = send(&app, token, &op, &id).await;
            assert_eq!(
                error_code(&body),
                "UNAUTHENTICATED",
                "{} with {token:?}: {body}",
                op.field
            );
            assert!(
                body["data"].is_null() || body["data"][op.field].is_null(),
                "{}: {body}",
                op.field
            );
        }
        assert_eq!(logo_status(&app, token, &url).await, 401);
    }

    assert_eq!(snapshot(&app, &token_a, &id).await, before);
    assert_eq!(app.rows("integration_logos").await, 1);
}

#[tokio::test]
async fn another_account_may_connect_the_same_store_without_affecting_the_first() {
    let (app, token_a, id_a, url_a) = account_a_with_logo().await;
    let before = snapshot(&app, &token_a, &id_a).await;
    let token_b = app.signed_in("b@example.com").await;

    let connected = app.connect(&token_b, json!({ "alias": "B's shop" })).await;

    assert_eq!(connected["userErrors"], json!([]), "{connected}");
    let b = &connected["integration"];
    let id_b = b["id"].as_str().unwrap().to_string();
    assert_ne!(id_b, id_a);
    assert_eq!(b["storeHash"], before["storeHash"]);
    assert_eq!(b["status"], "ACTIVE");
    assert!(b["logo"].is_null(), "B must not see A's logo: {connected}");
    assert_eq!(app.rows("integrations").await, 2);

    // Each account lists only its own.
    for (token, own) in [(&token_a, &id_a), (&token_b, &id_b)] {
        let list = app
            .data(
                Some(token),
                "{ integrations { totalCount edges { node { id } } } }",
                json!({}),
            )
            .await;
        assert_eq!(list["integrations"]["totalCount"], 1, "{list}");
        assert_eq!(
            list["integrations"]["edges"],
            json!([{ "node": { "id": own } }]),
            "{list}"
        );
    }
    assert!(snapshot(&app, &token_a, &id_b).await.is_null());

    // B works on its own integration: a logo, an edit, then a disconnect.
    let uploaded =
        upload_payload(&app, &token_b, &id_b, png(30, 30, 99), "b.png", "image/png").await;
    assert_eq!(uploaded["userErrors"], json!([]), "{uploaded}");
    let url_b = uploaded["integration"]["logo"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(url_b, url_a);
    assert_eq!(logo_status(&app, Some(&token_a), &url_b).await, 404);
    assert_eq!(app.rows("integration_logos").await, 2);
    let updated = app
        .data(
            Some(&token_b),
            "mutation($input: UpdateIntegrationInput!) { updateIntegration(input: $input) { integration { alias } userErrors { code } } }",
            json!({ "input": { "id": id_b, "alias": "A's shop" } }),
        )
        .await;
    assert_eq!(
        updated["updateIntegration"]["userErrors"],
        json!([]),
        "aliases are unique per account only: {updated}"
    );
    let disconnected = app
        .data(
            Some(&token_b),
            "mutation($input: DisconnectIntegrationInput!) { disconnectIntegration(input: $input) { integration { status } userErrors { code } } }",
            json!({ "input": { "id": id_b } }),
        )
        .await;
    assert_eq!(
        disconnected["disconnectIntegration"]["integration"]["status"], "DISCONNECTED",
        "{disconnected}"
    );

    assert_eq!(snapshot(&app, &token_a, &id_a).await, before);
    assert_eq!(logo_status(&app, Some(&token_a), &url_a).await, 200);
}

/// One product or order mutation as another account would send it: the root field, the
/// document, the variables and the input field that must carry `NOT_FOUND`.
struct ForeignChange {
    field: &'static str,
    document: &'static str,
    variables: Value,
    not_found_on: &'static str,
}

/// Every stock, cancel and delete mutation on account A's product (by id and by SKU) and order.
fn product_and_order_changes(product_id: &str, order_id: &str) -> Vec<ForeignChange> {
    const SET: &str = "mutation($i: SetStockInput!) { setStock(input: $i) { product { id stock } movement { id } userErrors { field code } } }";
    const ADJUST: &str = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { id stock } movement { id } userErrors { field code } } }";
    const DELETE: &str = "mutation($i: DeleteProductInput!) { deleteProduct(input: $i) { deletedProductId userErrors { field code } } }";
    const CANCEL: &str = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id status } userErrors { field code } } }";
    let by_id = json!({ "productId": product_id });
    let by_sku = json!({ "sku": "TEN-MUG" });
    let mut changes = Vec::new();
    for (key, field) in [(by_id, "productId"), (by_sku, "sku")] {
        let mut set = key.clone();
        set["quantity"] = json!(0);
        set["reason"] = json!("Taken over");
        let mut adjust = key.clone();
        adjust["delta"] = json!(-1);
        adjust["reason"] = json!("Taken over");
        changes.push(ForeignChange {
            field: "setStock",
            document: SET,
            variables: json!({ "i": set }),
            not_found_on: field,
        });
        changes.push(ForeignChange {
            field: "adjustStock",
            document: ADJUST,
            variables: json!({ "i": adjust }),
            not_found_on: field,
        });
        changes.push(ForeignChange {
            field: "deleteProduct",
            document: DELETE,
            variables: json!({ "i": key }),
            not_found_on: field,
        });
    }
    changes.push(ForeignChange {
        field: "cancelOrder",
        document: CANCEL,
        variables: json!({ "i": { "orderId": order_id } }),
        not_found_on: "orderId",
    });
    changes
}

#[tokio::test]
async fn another_account_can_neither_change_stock_nor_delete_products_nor_cancel_orders_of_this_one(
) {
    let a = shop("stock-a@example.com").await;
    let ids = a.stocked(&[("TEN-MUG", 12)]).await;
    a_second_passes().await;
    let number = a.place(json!([{ "sku": "TEN-MUG", "quantity": 2 }])).await;
    a.import("ORDERS").await;
    let order = a.order(number).await;
    let product_id = ids["TEN-MUG"].clone();
    let snapshot = || async {
        (
            a.product("TEN-MUG").await,
            a.ledger(&product_id).await,
            a.order(number).await,
        )
    };
    let before = snapshot().await;
    assert_eq!(before.0["stock"], 10);
    let token_b = a.app.signed_in("stock-b@example.com").await;
    let changes = product_and_order_changes(&product_id, order["id"].as_str().unwrap());

    for c in &changes {
        let body = a
            .app
            .gql(Some(&token_b), c.document, c.variables.clone())
            .await;
        assert!(body.get("errors").is_none(), "{}: {body}", c.field);
        let payload = &body["data"][c.field];
        assert_eq!(codes(payload), ["NOT_FOUND"], "{}: {body}", c.field);
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!([c.not_found_on]),
            "{}: {body}",
            c.field
        );
        for (k, v) in payload.as_object().unwrap() {
            assert!(k == "userErrors" || v.is_null(), "{}: {body}", c.field);
        }
    }
    for token in [None, Some("not-a-real-token")] {
        for c in &changes {
            let body = a.app.gql(token, c.document, c.variables.clone()).await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{}: {body}", c.field);
        }
    }

    assert_eq!(snapshot().await, before);
    assert!(before.2["canceledHereAt"].is_null());
}

#[tokio::test]
async fn an_account_changing_stock_by_sku_changes_its_own_product_and_never_another_accounts() {
    let a = shop("sku-a@example.com").await;
    a.stocked(&[("TEN-CUP", 7)]).await;
    let token_b = a.app.signed_in("sku-b@example.com").await;
    let connected = a
        .app
        .connect(&token_b, json!({ "alias": "B's view" }))
        .await;
    let gid_b = connected["integration"]["id"].as_str().unwrap().to_string();
    let run = a.app.sync_now(&token_b, &gid_b, Some("PRODUCTS")).await;
    assert_eq!(run["runs"][0]["outcome"], "SUCCEEDED", "{run}");
    let a_before = a.product("TEN-CUP").await;

    let res = adjust_stock(
        &a.app,
        &token_b,
        json!({ "sku": "TEN-CUP", "delta": 5, "reason": "B's delivery" }),
    )
    .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_ne!(res["product"]["id"], a_before["id"]);
    assert_eq!(product(&a.app, &token_b, "TEN-CUP").await["stock"], 12);
    assert_eq!(a.product("TEN-CUP").await, a_before);
}

#[tokio::test]
async fn another_account_can_neither_download_nor_link_nor_number_this_accounts_documents() {
    let app = spawn_app().await;
    let (token_a, store_a, _) =
        shop_with_options(&app, "docs-a@example.com", store_options("A's shop")).await;
    let order_a = order_to_germany(&app, store_a, "9101").await;
    let (token_b, store_b, _) =
        shop_with_options(&app, "docs-b@example.com", store_options("B's shop")).await;
    let order_b = order_to_germany(&app, store_b, "9201").await;
    let a_link = create_link(
        &app,
        &token_a,
        json!({ "kind": "INVOICE", "orderIds": [order_gid(order_a)] }),
    )
    .await;
    let a_url = a_link["link"]["url"].as_str().unwrap().to_string();

    // createDocumentLink: NOT_FOUND for A's order, alone or mixed with B's own.
    for kind in ["INVOICE", "LABEL"] {
        for ids in [
            vec![order_gid(order_a)],
            vec![order_gid(order_b), order_gid(order_a)],
        ] {
            let res = create_link(&app, &token_b, json!({ "kind": kind, "orderIds": ids })).await;
            assert_eq!(codes(&res), ["NOT_FOUND"], "{kind}: {res}");
            assert_eq!(res["userErrors"][0]["field"], json!(["orderIds"]), "{res}");
            assert!(res["link"].is_null(), "{res}");
        }
    }
    // The download routes: 404 for A's order, alone or mixed with B's own.
    for route in ["invoices", "labels"] {
        for orders in [format!("{order_a}"), format!("{order_b},{order_a}")] {
            let path = format!("/documents/{route}.pdf?orders={orders}");
            assert_eq!(get(&app, Some(&token_b), &path).await.0, 404, "{path}");
        }
    }
    // B's own link with A's order spliced into its body is refused.
    let b_link = create_link(
        &app,
        &token_b,
        json!({ "kind": "INVOICE", "orderIds": [order_gid(order_b)] }),
    )
    .await;
    let b_url = b_link["link"]["url"].as_str().unwrap();
    let (a_body, _) = a_url.rsplit_once('.').unwrap();
    let (_, b_sig) = b_url.rsplit_once('.').unwrap();
    assert_eq!(get(&app, None, &format!("{a_body}.{b_sig}")).await.0, 403);

    // Without a token: the mutation is UNAUTHENTICATED, the routes 401.
    for token in [None, Some("not-a-real-token")] {
        let body = app
            .gql(
                token,
                LINK,
                json!({ "i": { "kind": "INVOICE", "orderIds": [order_gid(order_a)] } }),
            )
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        for route in ["invoices", "labels"] {
            let path = format!("/documents/{route}.pdf?orders={order_a}");
            assert_eq!(get(&app, token, &path).await.0, 401, "{path}");
        }
    }

    // A's documents are A's alone: its numbering started at 1 and B's did too.
    assert_eq!(a_link["link"]["invoices"][0]["number"], "INV-000001");
    assert_eq!(b_link["link"]["invoices"][0]["number"], "INV-000001");
    assert_eq!(app.rows("invoices").await, 2);
    let (status, _, _, pdf) = get(&app, None, &a_url).await;
    assert_eq!(status, 200);
    let a_text = text(&pdf);
    assert!(
        a_text.contains("A's shop") && !a_text.contains("B's shop"),
        "{a_text}"
    );
}

#[tokio::test]
async fn another_account_can_neither_ship_this_accounts_orders_nor_see_or_retry_their_shipments() {
    const SHIP: &str = "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { order { id } shipments { id } userErrors { field code } } userErrors { code } } }";
    const RETRY: &str = "mutation($i: RetryShipmentPushInput!) { retryShipmentPush(input: $i) { shipment { id } userErrors { field code } } }";
    const SHIPMENTS: &str =
        "query($id: ID!) { order(id: $id) { status shipments { id pushState } } }";
    let a = shop("ship-a@example.com").await;
    a.stocked(&[("TEN-CUP", 5)]).await;
    a_second_passes().await;
    let number = a.place(json!([{ "sku": "TEN-CUP", "quantity": 1 }])).await;
    let second = a.place(json!([{ "sku": "TEN-CUP", "quantity": 1 }])).await;
    a.import("ORDERS").await;
    let order = a.order(number).await["id"].as_str().unwrap().to_string();
    let unshipped = a.order(second).await["id"].as_str().unwrap().to_string();
    let shipped = a
        .app
        .data(
            Some(&a.token),
            SHIP,
            json!({ "i": { "shipments": [{ "orderId": order, "method": "LABEL" }] } }),
        )
        .await;
    let shipment = shipped["shipOrders"]["results"][0]["shipments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token_b = a.app.signed_in("ship-b@example.com").await;

    let by_b = a
        .app
        .data(
            Some(&token_b),
            SHIP,
            json!({ "i": { "shipments": [{ "orderId": unshipped, "method": "LABEL" }] } }),
        )
        .await;
    let r = &by_b["shipOrders"]["results"][0];
    assert_eq!(codes(r), ["NOT_FOUND"], "{by_b}");
    assert_eq!(r["userErrors"][0]["field"], json!(["orderId"]));
    assert!(r["order"].is_null() && r["shipments"] == json!([]));
    let retry = a
        .app
        .data(
            Some(&token_b),
            RETRY,
            json!({ "i": { "shipmentId": shipment } }),
        )
        .await;
    assert_eq!(codes(&retry["retryShipmentPush"]), ["NOT_FOUND"], "{retry}");
    let seen = a
        .app
        .data(Some(&token_b), SHIPMENTS, json!({ "id": order }))
        .await;
    assert!(seen["order"].is_null(), "{seen}");
    for token in [None, Some("not-a-real-token")] {
        let body = a
            .app
            .gql(
                token,
                SHIP,
                json!({ "i": { "shipments": [{ "orderId": unshipped, "method": "LABEL" }] } }),
            )
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }

    assert_eq!(a.order(second).await["status"], "NEW");
    let mine = a
        .app
        .data(Some(&a.token), SHIPMENTS, json!({ "id": order }))
        .await;
    assert_eq!(
        mine["order"]["shipments"].as_array().unwrap().len(),
        1,
        "{mine}"
    );
    assert_eq!(a.app.rows("shipments").await, 1);
}

#[tokio::test]
async fn another_account_can_neither_claim_nor_see_an_app_store_nor_deliver_to_it_with_its_own_secret(
) {
    use crate::support::TestApp;
    let app = TestApp::builder().public().spawn().await;
    let code = app.install_app().await;

    // Nobody claims without a token.
    let anonymous = app
        .gql(
            None,
            "mutation($i: ClaimBigCommerceInstallationInput!) { claimBigCommerceInstallation(input: $i) { integration { id } } }",
            json!({ "i": { "code": code } }),
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    let token_a = app.signed_in("a@example.com").await;
    let claimed = app.claim(&token_a, json!({ "code": code })).await;
    assert_eq!(claimed["userErrors"], json!([]), "{claimed}");
    let id_a = claimed["integration"]["id"].as_str().unwrap().to_string();
    let before = snapshot(&app, &token_a, &id_a).await;

    // B cannot claim it again, nor see it.
    let token_b = app.signed_in("b@example.com").await;
    let stolen = app.claim(&token_b, json!({ "code": code })).await;
    assert_eq!(codes(&stolen), ["INSTALLATION_NOT_FOUND"], "{stolen}");
    assert!(snapshot(&app, &token_b, &id_a).await.is_null());

    // B connects the same store with its own API account: its hooks carry its own secret,
    // which A's webhook route refuses.
    let connected_b = app.connect(&token_b, json!({ "alias": "B" })).await;
    assert_eq!(connected_b["integration"]["webhooks"]["state"], "ACTIVE");
    let hooks_b = app
        .store_api(&app.store, reqwest::Method::GET, "v3/hooks", None)
        .await;
    let secret_b = hooks_b["data"][0]["headers"]["X-Orderdeck-Webhook-Secret"]
        .as_str()
        .unwrap()
        .to_string();
    let row_a = id_a.rsplit('/').next().unwrap();
    let res = app
        .http
        .post(format!("{}/webhooks/bigcommerce/{row_a}", app.address))
        .header("X-Orderdeck-Webhook-Secret", &secret_b)
        .json(&json!({
            "scope": "store/order/created", "store_id": "1",
            "data": { "type": "order", "id": 1 }, "hash": "h", "created_at": 1,
            "producer": format!("stores/{}", app.store.hash),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(app.rows("webhook_deliveries").await, 0);
    assert_eq!(snapshot(&app, &token_a, &id_a).await, before);
}
