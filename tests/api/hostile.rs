//! Hostile requests: each is sent to a spawned server, which must refuse it plainly (4xx or
//! `userErrors`), stay up, and answer a normal request right after.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{codes, error_code, spawn_app, TestApp};

/// Posts `body` as JSON to `/graphql`; the status and the answer's text.
async fn post_raw(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, String) {
    let mut req = app.http.post(format!("{}/graphql", app.address)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn still_answers(app: &TestApp) {
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

fn code_of(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    error_code(&v)
}

#[tokio::test]
async fn values_nested_thousands_deep_are_refused_before_parsing_and_the_server_stays_up() {
    let app = spawn_app().await;
    let token = app.signed_in("deep@example.com").await;
    let list = format!(
        "{{ __typename(x: {}1{}) }}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let object = format!(
        "{{ __typename(x: {}1{}) }}",
        "{a:".repeat(2000),
        "}".repeat(2000)
    );
    let in_filter = format!(
        "{{ orders(filter: {{search: {}\"x\"{}}}) {{ totalCount }} }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let selections = format!(
        "{{ {}__typename{} }}",
        "a {".repeat(30_000),
        "}".repeat(30_000)
    );
    for query in [&list, &object, &in_filter, &selections] {
        let (status, text) = post_raw(&app, Some(&token), &json!({ "query": query })).await;
        assert_eq!(status, 400, "{}", &text[..text.len().min(300)]);
        assert_eq!(code_of(&text), "NESTING_TOO_DEEP");
        assert!(
            text.len() < 2_000,
            "the answer echoes the document: {} bytes",
            text.len()
        );
        still_answers(&app).await;
    }
    // The same over GET, and inside a multipart upload's operations.
    let res = app
        .http
        .get(format!("{}/graphql", app.address))
        .query(&[("query", list.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    still_answers(&app).await;
    let operations = json!({ "query": object, "variables": {} }).to_string();
    let form = reqwest::multipart::Form::new()
        .text("operations", operations)
        .text("map", "{}");
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    still_answers(&app).await;
}

#[tokio::test]
async fn deep_variables_are_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    // serde_json stops at 128 levels; anything it accepts is walked without recursion limits
    // of its own, so check a value just under and one far over.
    let text = format!(
        "{{\"query\": \"query($x: [Int]) {{ __typename }}\", \"variables\": {{\"x\": {}1{}}}}}",
        "[".repeat(3000),
        "]".repeat(3000)
    );
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (status, _) = post_raw(
        &app,
        None,
        &json!({ "query": "query($x: [Int]) { __typename }", "variables": { "x": deep } }),
    )
    .await;
    assert!(status < 500);
    still_answers(&app).await;
}

#[tokio::test]
async fn thousands_of_aliased_searches_are_refused_as_one_request() {
    let app = spawn_app().await;
    let token = app.signed_in("aliases@example.com").await;
    for n in [3_000, 8_000] {
        let query = format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!(
                    "a{i}: orders(first: 1, filter: {{search: \"ab\"}}) {{ totalCount }}"
                ))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let started = std::time::Instant::now();
        let (status, text) = post_raw(&app, Some(&token), &json!({ "query": query })).await;
        assert_eq!(status, 400, "{}", &text[..text.len().min(300)]);
        assert_eq!(code_of(&text), "TOO_MANY_FIELDS");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // Within the field limit, past the root-field limit.
    let query = format!(
        "{{ {} }}",
        (0..21)
            .map(|i| format!("a{i}: me {{ email }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (status, text) = post_raw(&app, Some(&token), &json!({ "query": query })).await;
    assert_eq!(status, 400);
    assert_eq!(code_of(&text), "TOO_MANY_ROOT_FIELDS");
    // Searches weigh in the complexity: 20 short searches with counts are too costly.
    let query = format!(
        "{{ {} }}",
        (0..20)
            .map(|i| format!("a{i}: orders(first: 100, filter: {{search: \"ab\"}}) {{ totalCount edges {{ node {{ id number }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let body = app.gql(Some(&token), &query, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn thousands_of_errors_are_answered_as_a_few_short_ones() {
    let app = spawn_app().await;
    let query = format!("{{ {} }}", "__typename @skip(if: false) ".repeat(600));
    let (status, text) = post_raw(&app, None, &json!({ "query": query })).await;
    assert!(status < 500, "{status}");
    assert!(text.len() < 20_000, "{} bytes of errors", text.len());
    let many_directives = format!("{{ __typename {} }}", "@skip(if: false) ".repeat(900));
    let (_, text) = post_raw(&app, None, &json!({ "query": many_directives })).await;
    assert!(text.len() < 20_000, "{} bytes of errors", text.len());
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body["errors"].as_array().unwrap().len() <= 20);
    still_answers(&app).await;
}

#[tokio::test]
async fn two_logins_in_one_operation_are_refused_and_issue_no_token() {
    let app = spawn_app().await;
    app.signed_in("guess@example.com").await;
    let sessions = app.rows("sessions").await;
    let query = "mutation { \
        a: login(input: {email: \"guess@example.com\", password: \"wrong password 1\"}) { token } \
        b: login(input: {email: \"guess@example.com\", password: \"correct horse battery\"}) { token } }";
    let (status, text) = post_raw(&app, None, &json!({ "query": query })).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(code_of(&text), "REPEATED_FIELD");
    assert!(!text.contains("token\":\""), "{text}");
    assert_eq!(app.rows("sessions").await, sessions);
    // Through a fragment too.
    let query = "mutation { ...L ...M } \
        fragment L on Mutation { login(input: {email: \"guess@example.com\", password: \"x\"}) { token } } \
        fragment M on Mutation { b: login(input: {email: \"guess@example.com\", password: \"y\"}) { token } }";
    let (status, _) = post_raw(&app, None, &json!({ "query": query })).await;
    assert_eq!(status, 400);
    // Registering twice in one operation as well.
    let query = "mutation { \
        a: register(input: {accountName: \"A\", email: \"a@example.com\", password: \"a long passphrase 1\"}) { userErrors { code } } \
        b: register(input: {accountName: \"B\", email: \"b@example.com\", password: \"a long passphrase 2\"}) { userErrors { code } } }";
    let (status, text) = post_raw(&app, None, &json!({ "query": query })).await;
    assert_eq!(status, 400, "{text}");
}

#[tokio::test]
async fn control_characters_in_text_inputs_are_user_errors_on_every_database() {
    let app = spawn_app().await;
    let (token, _) = app.connected("nul@example.com").await;
    app.data(
        Some(&token),
        "mutation { setStock(input: {sku: \"A\", quantity: 1, reason: \"count\"}) { userErrors { code } } }",
        json!({}),
    )
    .await;
    let adjust = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { stock } userErrors { field code message } } }";
    for (input, field) in [
        (
            json!({ "sku": "A", "delta": 1, "reason": "cycle\u{0}count" }),
            "reason",
        ),
        (
            json!({ "sku": "A", "delta": 1, "reason": "count", "idempotencyKey": "k\u{0}" }),
            "idempotencyKey",
        ),
        (
            json!({ "sku": "A\u{0}", "delta": 1, "reason": "count" }),
            "sku",
        ),
        (
            json!({ "sku": "A", "delta": 1, "reason": "escape \u{1b}[31m" }),
            "reason",
        ),
    ] {
        let data = app.data(Some(&token), adjust, json!({ "i": input })).await;
        let payload = &data["adjustStock"];
        assert_eq!(codes(payload), vec!["CONTROL_CHARACTERS"], "{payload}");
        assert_eq!(payload["userErrors"][0]["field"], json!([field]));
    }
    // Line breaks are fine in a reason (multi-line), not in a SKU.
    let data = app
        .data(
            Some(&token),
            adjust,
            json!({ "i": { "sku": "A\n", "delta": 1, "reason": "counted\nagain" } }),
        )
        .await;
    assert_eq!(
        data["adjustStock"]["userErrors"][0]["field"],
        json!(["sku"])
    );
    assert_eq!(
        data["adjustStock"]["userErrors"].as_array().unwrap().len(),
        1
    );
    // A search holding NUL is refused, not run (and not INTERNAL on PostgreSQL).
    let (status, text) = post_raw(
        &app,
        Some(&token),
        &json!({
            "query": "query($s: String) { orders(filter: {search: $s}) { totalCount } }",
            "variables": { "s": "\u{0}" }
        }),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(code_of(&text), "BAD_USER_INPUT");
    // Logging in with NUL in the email is a user error too.
    let body = app
        .gql(
            None,
            "mutation { login(input: {email: \"nul\\u0000@example.com\", password: \"whatever it is\"}) { token userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&body["data"]["login"]),
        vec!["CONTROL_CHARACTERS"],
        "{body}"
    );
}

#[tokio::test]
async fn a_request_past_its_time_budget_answers_timeout_while_others_are_served() {
    let app = TestApp::builder()
        .settings(|s| {
            s.request_timeout = Duration::from_secs(1);
            s.account_concurrency = 1;
        })
        .spawn()
        .await;
    let (token, integration) = app.connected("slow@example.com").await;
    app.faults(json!({ "latency_ms": 1400 })).await;
    let gid = format!("gid://orderdeck/Integration/{}", integration.id);
    let sync = json!({
        "query": "mutation($i: SyncNowInput!) { syncNow(input: $i) { userErrors { code } } }",
        "variables": { "i": { "integrationId": gid, "kind": "PRODUCTS" } }
    });
    let other = app.signed_in("other@example.com").await;
    let started = std::time::Instant::now();
    let ((status, text), me) = tokio::join!(post_raw(&app, Some(&token), &sync), async {
        // A head start for the slow request, so this one is asked while it is in flight
        // (nothing outside the server shows that it is).
        tokio::time::sleep(Duration::from_millis(100)).await;
        let asked = std::time::Instant::now();
        let body = app.gql(Some(&other), "{ me { email } }", json!({})).await;
        (body, asked.elapsed())
    });
    assert_eq!(status, 503, "{text}");
    assert_eq!(code_of(&text), "TIMEOUT");
    assert!(started.elapsed() < Duration::from_millis(1900));
    assert_eq!(me.0["data"]["me"]["email"], "other@example.com");
    assert!(me.1 < Duration::from_millis(500), "{:?}", me.1);
    app.clear_faults().await;
    // With one turn per account, aliased root fields take turns and all answer.
    let body = app
        .gql(
            Some(&token),
            "{ a: orders(first: 5) { totalCount } b: orders(first: 5) { totalCount } \
               c: products(first: 5) { totalCount } d: integrations { totalCount } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["d"]["totalCount"], 1);
}

#[tokio::test]
async fn every_answer_carries_security_headers_and_only_the_app_pages_may_be_framed() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/graphiql",
        "/graphql?query={__typename}",
        "/nope",
    ] {
        let res = app
            .http
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["content-security-policy"], "frame-ancestors 'none'",
            "{path}"
        );
    }
    let res = app
        .http
        .get(format!(
            "{}/bigcommerce/load?signed_payload_jwt=x",
            app.address
        ))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert!(h.get("x-frame-options").is_none());
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("https://*.mybigcommerce.com"));
    assert_eq!(h["referrer-policy"], "no-referrer");
}
