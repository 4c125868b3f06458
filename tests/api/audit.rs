//! The audit trail: every change leaves exactly one event naming its actor, and the trail is
//! filtered by actor, action, target and time.

use serde_json::{json, Value};

use crate::support::{a_second_passes, codes, png, shop, upload_payload, Shop, PASSWORD};

const EVENTS: &str = "query($f: AuditEventFilterInput) { auditEvents(first: 100, filter: $f) { totalCount nodes { action actorUserId actorApiKeyId targetId summary createdAt } } }";

/// Counts the account's events and checks, after each change, that exactly one was added,
/// with the expected action and actor.
struct Trail<'a> {
    shop: &'a Shop,
    seen: u64,
}

impl<'a> Trail<'a> {
    async fn new(shop: &'a Shop) -> Self {
        let mut t = Trail { shop, seen: 0 };
        t.seen = t.events(json!(null)).await["totalCount"].as_u64().unwrap();
        t
    }

    async fn events(&self, filter: Value) -> Value {
        self.shop
            .app
            .data(Some(&self.shop.token), EVENTS, json!({ "f": filter }))
            .await["auditEvents"]
            .clone()
    }

    /// The newest event, after asserting it is the only one since the last call.
    async fn one(&mut self, action: &str, actor: (&str, &str)) -> Value {
        let all = self.events(json!(null)).await;
        let total = all["totalCount"].as_u64().unwrap();
        assert_eq!(total, self.seen + 1, "{action}: {all}");
        self.seen = total;
        let newest = all["nodes"][0].clone();
        assert_eq!(newest["action"], action, "{all}");
        assert_eq!(newest[actor.0], actor.1, "{action}: {newest}");
        let summary = newest["summary"].as_str().unwrap();
        assert!(
            !summary.is_empty() && !summary.contains(PASSWORD),
            "{newest}"
        );
        newest
    }
}

async fn mutate(shop: &Shop, token: &str, document: &str, input: Value) -> Value {
    let data = shop
        .app
        .data(Some(token), document, json!({ "i": input }))
        .await;
    let payload = data.as_object().unwrap().values().next().unwrap().clone();
    assert_eq!(payload["userErrors"], json!([]), "{document}: {payload}");
    payload
}

#[tokio::test]
async fn every_change_leaves_exactly_one_event_naming_its_actor() {
    let s = shop("audit-owner@example.com").await;
    let ids = s.stocked(&[("MUG", 10), ("CUP", 5)]).await;
    a_second_passes().await;
    let number = s.place(json!([{ "sku": "MUG", "quantity": 1 }])).await;
    let other = s.place(json!([{ "sku": "CUP", "quantity": 1 }])).await;
    // Two orders to one address (they merge).
    let ada = json!({ "billing_address": {
        "first_name": "Ada", "last_name": "Lovelace", "company": "", "street_1": "1 Audit Way",
        "street_2": "", "city": "London", "state": "", "zip": "N1 1AA",
        "country": "United Kingdom", "country_iso2": "GB", "email": "ada@example.com"
    } });
    let first = s
        .place_with(json!([{ "sku": "MUG", "quantity": 1 }]), ada.clone())
        .await;
    let second = s
        .place_with(json!([{ "sku": "CUP", "quantity": 1 }]), ada)
        .await;
    s.import("ORDERS").await;
    let owner_id = s.me().await;
    let mut trail = Trail::new(&s).await;
    let owner = ("actorUserId", owner_id.as_str());

    let invited = mutate(
        &s,
        &s.token,
        "mutation($i: InviteUserInput!) { inviteUser(input: $i) { code userErrors { code } } }",
        json!({ "email": "audit-staff@example.com", "role": "STAFF" }),
    )
    .await;
    trail.one("INVITE_USER", owner).await;
    let joined = s
        .app
        .register_invited("audit-staff@example.com", invited["code"].as_str().unwrap())
        .await;
    let staff_id = joined["user"]["id"].as_str().unwrap().to_string();
    trail.one("JOIN_ACCOUNT", ("actorUserId", &staff_id)).await;
    let staff = s.app.login("audit-staff@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let staff_actor = ("actorUserId", staff_id.as_str());

    mutate(&s, &s.token, "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { code } } }", json!({ "id": s.gid, "alias": "Renamed", "phone": "+44 20 7946 0000" })).await;
    let updated = trail.one("UPDATE_INTEGRATION", owner).await;
    assert_eq!(updated["targetId"], s.gid);
    assert_eq!(updated["summary"], "changed: alias, phone", "{updated}");

    mutate(
        &s,
        &s.token,
        "mutation($i: SetStockInput!) { setStock(input: $i) { userErrors { code } } }",
        json!({ "sku": "MUG", "quantity": 20, "reason": "Count" }),
    )
    .await;
    let set = trail.one("SET_STOCK", owner).await;
    assert_eq!(set["targetId"], ids["MUG"]);
    assert_eq!(set["summary"], "MUG: 8 → 20 (Count)");
    mutate(
        &s,
        &staff,
        "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }",
        json!({ "sku": "MUG", "delta": -2, "reason": "Broken" }),
    )
    .await;
    trail.one("ADJUST_STOCK", staff_actor).await;

    let order = s.order(number).await;
    mutate(&s, &staff, "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { userErrors { code } } }", json!({ "shipments": [{ "orderId": order["id"], "method": "MANUAL", "carrier": "UPS", "service": "Ground", "trackingNumber": "1Z999AA10123456784" }] })).await;
    let shipped = trail.one("SHIP_ORDERS", staff_actor).await;
    assert_eq!(shipped["targetId"], order["id"]);
    let other_order = s.order(other).await;
    mutate(
        &s,
        &staff,
        "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { userErrors { code } } }",
        json!({ "orderId": other_order["id"] }),
    )
    .await;
    trail.one("CANCEL_ORDER", staff_actor).await;
    let pair = [
        s.order(first).await["id"].clone(),
        s.order(second).await["id"].clone(),
    ];
    let merged = mutate(
        &s,
        &staff,
        "mutation($i: MergeOrdersInput!) { mergeOrders(input: $i) { merge { id } userErrors { code } } }",
        json!({ "orderIds": pair }),
    )
    .await;
    let event = trail.one("MERGE_ORDERS", staff_actor).await;
    assert_eq!(event["targetId"], merged["merge"]["id"]);
    mutate(
        &s,
        &staff,
        "mutation($i: UnmergeOrdersInput!) { unmergeOrders(input: $i) { orders { id } userErrors { code } } }",
        json!({ "mergeId": merged["merge"]["id"] }),
    )
    .await;
    trail.one("UNMERGE_ORDERS", staff_actor).await;
    let batch = mutate(
        &s,
        &staff,
        "mutation($i: CreateBatchInput!) { createBatch(input: $i) { batch { id shippedCount } userErrors { code } } }",
        json!({ "orderIds": [pair[0]], "method": "LABEL", "carrier": "DHL" }),
    )
    .await;
    assert_eq!(batch["batch"]["shippedCount"], 1, "{batch}");
    let event = trail.one("CREATE_BATCH", staff_actor).await;
    assert_eq!(event["targetId"], batch["batch"]["id"]);
    assert_eq!(event["summary"], "batch of 1 order(s), 1 shipped");
    mutate(&s, &staff, "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) { userErrors { code } } }", json!({ "kind": "INVOICE", "orderIds": [order["id"]] })).await;
    trail.one("CREATE_DOCUMENT_LINK", staff_actor).await;

    let listing = s
        .app
        .data(
            Some(&s.token),
            "{ product(sku: \"CUP\") { listings { id } } }",
            json!({}),
        )
        .await["product"]["listings"][0]["id"]
        .clone();
    mutate(
        &s,
        &s.token,
        "mutation($i: UpdatePriceInput!) { updatePrice(input: $i) { userErrors { code } } }",
        json!({ "listingId": listing, "price": "12.50" }),
    )
    .await;
    trail.one("UPDATE_PRICE", owner).await;

    let key = mutate(&s, &s.token, "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret userErrors { code } } }", json!({ "name": "Stock sync", "role": "STAFF" })).await;
    trail.one("CREATE_API_KEY", owner).await;
    let secret = key["secret"].as_str().unwrap();
    let key_id = key["apiKey"]["id"].as_str().unwrap().to_string();
    mutate(
        &s,
        secret,
        "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP", "delta": 3, "reason": "Delivery" }),
    )
    .await;
    trail.one("ADJUST_STOCK", ("actorApiKeyId", &key_id)).await;
    let ledger = s.ledger(&ids["CUP"]).await;
    let by_key = ledger
        .iter()
        .find(|m| m["note"] == "Delivery")
        .expect("the key's movement");
    assert_eq!(by_key["actorApiKeyId"], key_id, "{by_key}");
    assert!(by_key["actorUserId"].is_null(), "{by_key}");
    for _ in 0..2 {
        mutate(
            &s,
            &s.token,
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { userErrors { code } } }",
            json!({ "id": key_id }),
        )
        .await;
    }
    // Revoking a revoked key changes nothing, so it records nothing.
    trail.one("REVOKE_API_KEY", owner).await;

    mutate(
        &s,
        &s.token,
        "mutation($i: UpdateUserRoleInput!) { updateUserRole(input: $i) { userErrors { code } } }",
        json!({ "userId": staff_id, "role": "VIEWER" }),
    )
    .await;
    trail.one("UPDATE_USER_ROLE", owner).await;
    let pending = mutate(&s, &s.token, "mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { id } userErrors { code } } }", json!({ "email": "audit-later@example.com", "role": "VIEWER" })).await;
    trail.one("INVITE_USER", owner).await;
    mutate(&s, &s.token, "mutation($i: RevokeInvitationInput!) { revokeInvitation(input: $i) { userErrors { code } } }", json!({ "id": pending["invitation"]["id"] })).await;
    trail.one("REVOKE_INVITATION", owner).await;

    let wrong = s
        .app
        .login("audit-staff@example.com", "not the password at all")
        .await;
    assert_eq!(codes(&wrong), ["INVALID_CREDENTIALS"]);
    // Written off the answer's path: give it a moment.
    let mut failed = Value::Null;
    for _ in 0..50 {
        let events = trail.events(json!({ "action": "LOGIN_FAILED" })).await;
        if events["totalCount"] == 1 {
            failed = events["nodes"][0].clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(failed["targetId"], staff_id, "{failed}");
    assert!(failed["actorUserId"].is_null(), "{failed}");
    trail.seen += 1;

    mutate(
        &s,
        &s.token,
        "mutation($i: RemoveUserInput!) { removeUser(input: $i) { userErrors { code } } }",
        json!({ "userId": staff_id }),
    )
    .await;
    trail.one("REMOVE_USER", owner).await;

    let uploaded = upload_payload(
        &s.app,
        &s.token,
        &s.gid,
        png(20, 20, 3),
        "logo.png",
        "image/png",
    )
    .await;
    assert_eq!(uploaded["userErrors"], json!([]), "{uploaded}");
    trail.one("CHANGE_LOGO", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: SetLowStockThresholdInput!) { setLowStockThreshold(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP", "threshold": 3 }),
    )
    .await;
    trail.one("SET_LOW_STOCK_THRESHOLD", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: SetBinLocationInput!) { setBinLocation(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP", "binLocation": "A-1" }),
    )
    .await;
    trail.one("SET_BIN_LOCATION", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: CreateBundleInput!) { createBundle(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP-PAIR", "name": "Two cups", "components": [{ "sku": "CUP", "quantity": 2 }] }),
    )
    .await;
    trail.one("CREATE_BUNDLE", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: UpdateBundleComponentsInput!) { updateBundleComponents(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP-PAIR", "components": [{ "sku": "CUP", "quantity": 3 }] }),
    )
    .await;
    trail.one("UPDATE_BUNDLE_COMPONENTS", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: DeleteBundleInput!) { deleteBundle(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP-PAIR" }),
    )
    .await;
    trail.one("DELETE_BUNDLE", owner).await;
    let listing = s
        .app
        .data(
            Some(&s.token),
            "{ product(sku: \"CUP\") { listings { id } } }",
            json!({}),
        )
        .await;
    mutate(
        &s,
        &s.token,
        "mutation($i: SetListingStockBufferInput!) { setListingStockBuffer(input: $i) { userErrors { code } } }",
        json!({ "listingId": listing["product"]["listings"][0]["id"], "stockBuffer": { "mode": "UNITS", "value": 1 } }),
    )
    .await;
    trail.one("SET_LISTING_STOCK_BUFFER", owner).await;
    let counted = crate::support::send_multipart(
        &s.app,
        Some(&s.token),
        "mutation($input: ImportStockCountsInput!) { importStockCounts(input: $input) { userErrors { code } } }",
        json!({ "input": { "file": null, "mode": "SET", "reason": "Count" } }),
        b"sku,quantity\nCUP,6\n".to_vec(),
        "count.csv",
        "text/csv",
    )
    .await;
    let counted: Value = counted.json().await.unwrap();
    assert_eq!(
        counted["data"]["importStockCounts"]["userErrors"],
        json!([]),
        "{counted}"
    );
    trail.one("IMPORT_STOCK_COUNTS", owner).await;
    let exported = s
        .app
        .data(
            Some(&s.token),
            "mutation { exportStock { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        exported["exportStock"]["userErrors"],
        json!([]),
        "{exported}"
    );
    trail.one("EXPORT_STOCK", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: DeleteProductInput!) { deleteProduct(input: $i) { userErrors { code } } }",
        json!({ "sku": "CUP" }),
    )
    .await;
    trail.one("DELETE_PRODUCT", owner).await;
    mutate(
        &s,
        &s.token,
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { userErrors { code } } }",
        json!({ "currentPassword": PASSWORD, "newPassword": "a brand new passphrase 7" }),
    )
    .await;
    trail.one("CHANGE_PASSWORD", owner).await;
    mutate(&s, &s.token, "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { userErrors { code } } }", json!({ "id": s.gid })).await;
    trail.one("DISCONNECT_INTEGRATION", owner).await;

    // Filters: by actor, by action, by target.
    let by_staff = trail.events(json!({ "actorId": staff_id })).await;
    let actions: Vec<&str> = by_staff["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "CREATE_DOCUMENT_LINK",
            "CREATE_BATCH",
            "UNMERGE_ORDERS",
            "MERGE_ORDERS",
            "CANCEL_ORDER",
            "SHIP_ORDERS",
            "ADJUST_STOCK",
            "JOIN_ACCOUNT"
        ]
    );
    let by_action = trail.events(json!({ "action": "ADJUST_STOCK" })).await;
    assert_eq!(by_action["totalCount"], 2, "{by_action}");
    let by_target = trail.events(json!({ "targetId": ids["MUG"] })).await;
    assert_eq!(by_target["totalCount"], 2, "{by_target}");
    let future = trail
        .events(json!({ "from": "2999-01-01T00:00:00Z" }))
        .await;
    assert_eq!(future["totalCount"], 0);
}

#[tokio::test]
async fn staff_and_viewers_cannot_read_the_audit_trail_and_other_accounts_never_see_it() {
    let s = shop("audit-private@example.com").await;
    let staff = s
        .app
        .member(&s.token, "audit-private-staff@example.com", "STAFF")
        .await;
    let refused = s.app.gql(Some(&staff), EVENTS, json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let stranger = s.app.signed_in("audit-stranger@example.com").await;
    let theirs = s.app.data(Some(&stranger), EVENTS, json!({})).await;
    let actions: Vec<&str> = theirs["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["REGISTER"], "{theirs}");
}
