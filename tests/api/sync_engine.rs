//! The sync engine: runs recorded by `syncNow` and the scheduler, leases across processes,
//! 401 handling, the on/off switch, `syncRuns` paging, and tenancy of every sync field.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use orderdeck::domain::{IntegrationStatus, SyncKind, SyncOutcome};
use orderdeck::entities::{integration, sync_job, sync_run};
use orderdeck::state::AppState;
use orderdeck::sync::scheduler::{run_once, Scheduler};
use orderdeck_sandbox::server::StoreCredentials;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

use crate::support::{
    codes, error_code, integration_gid as gid, spawn_app, store_input, wait_for, TestApp,
};

const RUN_FIELDS: &str =
    "id integrationId kind trigger outcome startedAt finishedAt created updated unchanged apiCalls error";

fn sync_now_query() -> String {
    format!("mutation($i: SyncNowInput!) {{ syncNow(input: $i) {{ runs {{ {RUN_FIELDS} }} userErrors {{ field code message }} }} }}")
}

fn sync_runs_query() -> String {
    format!(
        "query($id: ID!, $first: Int = 20, $after: String, $kind: SyncKind) {{ syncRuns(integrationId: $id, first: $first, after: $after, kind: $kind) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor node {{ {RUN_FIELDS} }} }} }} }}"
    )
}

const INTEGRATION_SYNC: &str = "query($id: ID!) { integration(id: $id) { status syncJobs { kind nextRunAt lastSuccessAt lastFailureAt lastError running } } }";

async fn sync_now(app: &TestApp, token: &str, integration_id: &str, kind: Option<&str>) -> Value {
    let mut input = json!({ "integrationId": integration_id });
    if let Some(k) = kind {
        input["kind"] = json!(k);
    }
    app.data(Some(token), &sync_now_query(), json!({ "i": input }))
        .await["syncNow"]
        .clone()
}

/// Every request a store received, by the sandbox's counters.
fn store_requests(app: &TestApp, hash: &str) -> u64 {
    app.sandbox
        .with_store(hash, |s| s.counters.values().sum::<u64>())
        .unwrap()
}

/// Makes every job due now (as if its interval had passed).
async fn make_all_due(state: &AppState) {
    sync_job::Entity::update_many()
        .col_expr(
            sync_job::Column::NextRunAt,
            Expr::value(Utc::now() - chrono::Duration::seconds(5)),
        )
        .exec(&state.db)
        .await
        .unwrap();
}

async fn runs_in_db(state: &AppState) -> Vec<sync_run::Model> {
    sync_run::Entity::find()
        .order_by_asc(sync_run::Column::Id)
        .all(&state.db)
        .await
        .unwrap()
}

async fn status_of(state: &AppState, id: i64) -> IntegrationStatus {
    integration::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

/// Connects `store` to the account of `token` under `alias`; returns the integration row id.
async fn connect_store(app: &TestApp, token: &str, store: &StoreCredentials, alias: &str) -> i64 {
    let res = app
        .data(
            Some(token),
            "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { code message } } }",
            json!({ "i": store_input(store, json!({ "alias": alias, "historicalImport": "LAST_90_DAYS" })) }),
        )
        .await["connectBigCommerce"]
        .clone();
    assert_eq!(res["userErrors"], json!([]), "{res}");
    res["integration"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn with_data() -> TestApp {
    TestApp::builder()
        .sandbox(|c| {
            c.products = 5;
            c.orders = 12;
        })
        .spawn()
        .await
}

#[tokio::test]
async fn sync_now_records_a_finished_run_with_its_outcome_counts_and_api_calls() {
    let app = with_data().await;
    let (token, row) = app
        .connected_with(
            "runs@example.com",
            json!({ "historicalImport": "LAST_90_DAYS" }),
        )
        .await;

    let payload = sync_now(&app, &token, &gid(row.id), Some("ORDERS")).await;

    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let runs = payload["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{payload}");
    let run = &runs[0];
    assert_eq!(run["kind"], "ORDERS");
    assert_eq!(run["trigger"], "MANUAL");
    assert_eq!(run["outcome"], "SUCCEEDED", "{run}");
    assert_eq!(run["integrationId"], gid(row.id));
    assert!(run["finishedAt"].is_string());
    assert!(run["error"].is_null());
    assert!(run["apiCalls"].as_i64().unwrap() > 0, "{run}");
    let counted = ["created", "updated", "unchanged"]
        .iter()
        .map(|k| run[*k].as_i64().unwrap())
        .sum::<i64>();
    assert!(counted >= 0);

    let stored = runs_in_db(&app.state).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].outcome, SyncOutcome::Succeeded);
    assert_eq!(stored[0].api_calls, run["apiCalls"].as_i64().unwrap());

    let data = app
        .data(Some(&token), INTEGRATION_SYNC, json!({ "id": gid(row.id) }))
        .await;
    let jobs = data["integration"]["syncJobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{data}");
    let orders = jobs.iter().find(|j| j["kind"] == "ORDERS").unwrap();
    assert!(orders["lastSuccessAt"].is_string(), "{orders}");
    assert!(orders["lastFailureAt"].is_null());
    assert_eq!(orders["running"], false);
    let products = jobs.iter().find(|j| j["kind"] == "PRODUCTS").unwrap();
    assert!(products["lastSuccessAt"].is_null(), "{products}");
}

#[tokio::test]
async fn sync_now_without_a_kind_runs_products_then_orders() {
    let app = with_data().await;
    let (token, row) = app.connected("both@example.com").await;

    let payload = sync_now(&app, &token, &gid(row.id), None).await;

    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let kinds: Vec<&str> = payload["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["PRODUCTS", "ORDERS"]);
    assert!(payload["runs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "SUCCEEDED"));
    assert_eq!(app.rows("sync_runs").await, 2);
}

#[tokio::test]
async fn a_store_answering_401_needs_new_credentials_and_is_not_called_until_they_are_given() {
    let app = with_data().await;
    let (token, row) = app.connected("revoked@example.com").await;
    let hash = app.store.hash.clone();
    // The merchant deletes the API account: the stored token now answers 401.
    let accounts = app
        .sandbox
        .with_store(&hash, |s| std::mem::take(&mut s.accounts))
        .unwrap();

    let payload = sync_now(&app, &token, &gid(row.id), Some("ORDERS")).await;

    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let run = &payload["runs"][0];
    assert_eq!(run["outcome"], "FAILED", "{payload}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains(&app.store.access_token));
    assert_eq!(
        status_of(&app.state, row.id).await,
        IntegrationStatus::NeedsCredentials
    );
    let data = app
        .data(Some(&token), INTEGRATION_SYNC, json!({ "id": gid(row.id) }))
        .await;
    assert_eq!(data["integration"]["status"], "NEEDS_CREDENTIALS");
    let orders = data["integration"]["syncJobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "ORDERS")
        .unwrap()
        .clone();
    assert!(orders["lastFailureAt"].is_string(), "{orders}");
    assert!(orders["lastError"].as_str().unwrap().contains("401"));

    // Due or not, the scheduler leaves the store alone, and syncNow refuses.
    make_all_due(&app.state).await;
    let before = store_requests(&app, &hash);
    let runs = run_once(&app.state, "scheduler-a").await.unwrap();
    assert!(runs.is_empty(), "{runs:?}");
    let refused = sync_now(&app, &token, &gid(row.id), None).await;
    assert_eq!(codes(&refused), ["CREDENTIALS_REJECTED"]);
    assert_eq!(store_requests(&app, &hash), before);

    // A new token brings it back, and its imports run at once.
    app.sandbox
        .with_store(&hash, |s| s.accounts = accounts)
        .unwrap();
    let updated = app
        .data(
            Some(&token),
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { status } userErrors { code } } }",
            json!({ "i": { "id": gid(row.id), "accessToken": app.store.access_token } }),
        )
        .await["updateIntegration"]
        .clone();
    assert_eq!(updated["userErrors"], json!([]), "{updated}");
    assert_eq!(updated["integration"]["status"], "ACTIVE");
    let runs = run_once(&app.state, "scheduler-a").await.unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(
        runs.iter().all(|r| r.outcome == SyncOutcome::Succeeded),
        "{runs:?}"
    );
}

#[tokio::test]
async fn two_schedulers_on_one_database_run_each_due_job_exactly_once() {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.stores = 3;
            c.products = 3;
            c.orders = 5;
        })
        .spawn()
        .await;
    let token = app.signed_in("replicas@example.com").await;
    for (i, store) in app.sandbox.stores().iter().enumerate() {
        connect_store(&app, &token, store, &format!("Store {i}")).await;
    }
    // A second "process": its own connection pool on the same database.
    let other = AppState {
        db: orderdeck::db::connect(&app.state.settings).await.unwrap(),
        ..app.state.clone()
    };

    for round in 1..=3 {
        make_all_due(&app.state).await;
        let (a, b) = tokio::join!(
            run_once(&app.state, "replica-a"),
            run_once(&other, "replica-b")
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.len() + b.len(),
            6,
            "round {round}: a ran {}, b ran {}",
            a.len(),
            b.len()
        );

        let mut per_job: HashMap<(i64, SyncKind), usize> = HashMap::new();
        for run in runs_in_db(&app.state).await {
            *per_job.entry((run.integration_id, run.kind)).or_default() += 1;
        }
        assert_eq!(per_job.len(), 6);
        assert!(
            per_job.values().all(|n| *n == round),
            "round {round}: {per_job:?}"
        );
    }
    let leased = sync_job::Entity::find()
        .filter(sync_job::Column::LeaseOwner.is_not_null())
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(leased.is_empty(), "leases left behind: {leased:?}");
}

#[tokio::test]
async fn concurrent_claims_never_hand_one_job_to_two_owners() {
    let app = TestApp::builder().sandbox(|c| c.stores = 4).spawn().await;
    let token = app.signed_in("claims@example.com").await;
    for (i, store) in app.sandbox.stores().iter().enumerate() {
        connect_store(&app, &token, store, &format!("Store {i}")).await;
    }
    let other = AppState {
        db: orderdeck::db::connect(&app.state.settings).await.unwrap(),
        ..app.state.clone()
    };
    let lease = Duration::from_secs(60);

    let claimers = (0..8).map(|n| {
        let db = if n % 2 == 0 {
            app.state.db.clone()
        } else {
            other.db.clone()
        };
        tokio::spawn(async move {
            let owner = format!("claimer-{n}");
            let mut won = Vec::new();
            while let Some(job) = orderdeck::sync::jobs::claim_due(&db, &owner, Utc::now(), lease)
                .await
                .unwrap()
            {
                assert_eq!(job.lease_owner.as_deref(), Some(owner.as_str()));
                won.push(job.id);
            }
            won
        })
    });
    let mut claimed = Vec::new();
    for c in claimers.collect::<Vec<_>>() {
        claimed.extend(c.await.unwrap());
    }

    claimed.sort_unstable();
    assert_eq!(claimed.len(), 8, "{claimed:?}");
    claimed.dedup();
    assert_eq!(claimed.len(), 8, "a job went to two owners");
}

#[tokio::test]
async fn an_expired_lease_of_a_crashed_process_is_taken_over_and_a_live_one_is_respected() {
    let app = with_data().await;
    let (token, row) = app.connected("crash@example.com").await;
    let past = Utc::now() - chrono::Duration::minutes(1);
    let future = Utc::now() + chrono::Duration::minutes(10);
    // The ORDERS job was claimed by a process that died mid-run an hour ago …
    sync_job::Entity::update_many()
        .col_expr(
            sync_job::Column::LeaseOwner,
            Expr::value("crashed-host-1-dead"),
        )
        .col_expr(sync_job::Column::LeaseExpiresAt, Expr::value(past))
        .col_expr(sync_job::Column::NextRunAt, Expr::value(past))
        .filter(sync_job::Column::Kind.eq(SyncKind::Orders))
        .exec(&app.state.db)
        .await
        .unwrap();
    sync_run::Entity::insert(sync_run::ActiveModel {
        account_id: sea_orm::Set(row.account_id),
        integration_id: sea_orm::Set(row.id),
        kind: sea_orm::Set(SyncKind::Orders),
        trigger: sea_orm::Set(orderdeck::domain::SyncTrigger::Schedule),
        outcome: sea_orm::Set(SyncOutcome::Running),
        started_at: sea_orm::Set(past),
        created: sea_orm::Set(0),
        updated: sea_orm::Set(0),
        unchanged: sea_orm::Set(0),
        api_calls: sea_orm::Set(0),
        ..Default::default()
    })
    .exec(&app.state.db)
    .await
    .unwrap();
    // … while the PRODUCTS job is being run right now by a live process.
    sync_job::Entity::update_many()
        .col_expr(
            sync_job::Column::LeaseOwner,
            Expr::value("alive-host-2-busy"),
        )
        .col_expr(sync_job::Column::LeaseExpiresAt, Expr::value(future))
        .col_expr(sync_job::Column::NextRunAt, Expr::value(past))
        .filter(sync_job::Column::Kind.eq(SyncKind::Products))
        .exec(&app.state.db)
        .await
        .unwrap();

    let runs = run_once(&app.state, "survivor").await.unwrap();

    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].kind, SyncKind::Orders);
    assert_eq!(runs[0].outcome, SyncOutcome::Succeeded);
    let stored = runs_in_db(&app.state).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].outcome,
        SyncOutcome::Failed,
        "the abandoned run is closed"
    );
    assert!(stored[0].finished_at.is_some());
    let jobs = sync_job::Entity::find().all(&app.state.db).await.unwrap();
    let orders = jobs.iter().find(|j| j.kind == SyncKind::Orders).unwrap();
    assert_eq!(orders.lease_owner, None);
    assert!(orders.next_run_at > Utc::now());
    let products = jobs.iter().find(|j| j.kind == SyncKind::Products).unwrap();
    assert_eq!(products.lease_owner.as_deref(), Some("alive-host-2-busy"));

    let busy = sync_now(&app, &token, &gid(row.id), Some("PRODUCTS")).await;
    assert_eq!(codes(&busy), ["SYNC_IN_PROGRESS"]);
    assert_eq!(busy["runs"], json!([]));
    let data = app
        .data(Some(&token), INTEGRATION_SYNC, json!({ "id": gid(row.id) }))
        .await;
    let running: Vec<(String, bool)> = data["integration"]["syncJobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["kind"].as_str().unwrap().to_string(),
                j["running"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(running.contains(&("PRODUCTS".into(), true)), "{running:?}");
    assert!(running.contains(&("ORDERS".into(), false)), "{running:?}");
}

#[tokio::test]
async fn with_sync_disabled_no_scheduler_runs_anything() {
    let app = TestApp::builder()
        .settings(|s| {
            s.sync_enabled = false;
            s.scheduler_tick = Duration::from_millis(20);
        })
        .spawn()
        .await;
    app.connected("off@example.com").await;

    // Time passing is the point: twenty ticks in which a scheduler would have run a job.
    tokio::time::sleep(Duration::from_millis(400)).await;

    assert_eq!(app.rows("sync_runs").await, 0);
}

/// Waits until `done` holds for the stored runs (at most 15 s).
async fn wait_for_runs(
    app: &TestApp,
    done: impl Fn(&[sync_run::Model]) -> bool,
) -> Vec<sync_run::Model> {
    wait_for("the stored runs", Duration::from_secs(15), async || {
        let runs = runs_in_db(&app.state).await;
        if done(&runs) {
            Ok(runs)
        } else {
            Err(runs)
        }
    })
    .await
}

#[tokio::test]
async fn with_sync_enabled_the_scheduler_runs_due_jobs_by_itself_and_again_after_the_interval() {
    let app = TestApp::builder()
        .settings(|s| {
            s.sync_enabled = true;
            s.scheduler_tick = Duration::from_millis(20);
            s.order_sync_interval = Duration::from_secs(1);
        })
        .spawn()
        .await;
    app.connected("on@example.com").await;

    let finished = |r: &sync_run::Model| r.outcome != SyncOutcome::Running;
    let runs = wait_for_runs(&app, |runs| {
        runs.iter()
            .filter(|r| r.kind == SyncKind::Orders && finished(r))
            .count()
            >= 2
            && runs
                .iter()
                .any(|r| r.kind == SyncKind::Products && finished(r))
    })
    .await;

    assert!(runs
        .iter()
        .filter(|r| finished(r))
        .all(|r| r.outcome == SyncOutcome::Succeeded
            && r.trigger == orderdeck::domain::SyncTrigger::Schedule));
    // Products (every 45 minutes) ran once.
    assert_eq!(
        runs.iter().filter(|r| r.kind == SyncKind::Products).count(),
        1
    );
}

#[tokio::test]
async fn the_scheduler_finishes_its_running_job_on_shutdown_and_then_claims_nothing() {
    let app = spawn_app().await;
    let (_, _row) = app.connected("shutdown@example.com").await;
    let state = AppState {
        settings: std::sync::Arc::new(orderdeck::config::Settings {
            scheduler_tick: Duration::from_millis(20),
            ..(*app.state.settings).clone()
        }),
        ..app.state.clone()
    };
    let handle = Scheduler::start(state);
    assert!(!handle.owner().is_empty());
    wait_for_runs(&app, |runs| !runs.is_empty()).await;

    handle.shutdown().await;

    let after = runs_in_db(&app.state).await;
    assert!(
        after.iter().all(|r| r.outcome != SyncOutcome::Running),
        "{after:?}"
    );
    make_all_due(&app.state).await;
    // Time passing is the point: ten ticks in which the stopped scheduler must claim nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(runs_in_db(&app.state).await.len(), after.len());
    let leased = sync_job::Entity::find()
        .filter(sync_job::Column::LeaseOwner.is_not_null())
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(leased.is_empty(), "{leased:?}");
}

#[tokio::test]
async fn sync_runs_pages_newest_first_and_filters_by_kind() {
    let app = spawn_app().await;
    let (token, row) = app.connected("pages@example.com").await;
    for kind in ["ORDERS", "PRODUCTS", "ORDERS", "ORDERS", "ORDERS"] {
        let p = sync_now(&app, &token, &gid(row.id), Some(kind)).await;
        assert_eq!(p["userErrors"], json!([]), "{p}");
    }
    let stored: Vec<String> = runs_in_db(&app.state)
        .await
        .iter()
        .rev()
        .map(|r| format!("gid://orderdeck/SyncRun/{}", r.id))
        .collect();

    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let data = app
            .data(
                Some(&token),
                &sync_runs_query(),
                json!({ "id": gid(row.id), "first": 2, "after": after }),
            )
            .await;
        let conn = &data["syncRuns"];
        assert_eq!(conn["totalCount"], 5);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 0);
        for e in conn["edges"].as_array().unwrap() {
            seen.push(e["node"]["id"].as_str().unwrap().to_string());
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, stored, "newest first, each once");

    let data = app
        .data(
            Some(&token),
            &sync_runs_query(),
            json!({ "id": gid(row.id), "kind": "PRODUCTS" }),
        )
        .await;
    assert_eq!(data["syncRuns"]["totalCount"], 1);
    assert_eq!(data["syncRuns"]["edges"][0]["node"]["kind"], "PRODUCTS");
}

#[tokio::test]
async fn another_account_can_neither_sync_a_store_nor_see_its_runs_or_jobs() {
    let app = spawn_app().await;
    let (owner, row) = app.connected("owner@example.com").await;
    let mine = sync_now(&app, &owner, &gid(row.id), Some("ORDERS")).await;
    assert_eq!(mine["userErrors"], json!([]), "{mine}");
    let intruder = app.signed_in("intruder@example.com").await;
    let requests = app.sandbox_requests();

    let refused = sync_now(&app, &intruder, &gid(row.id), None).await;
    assert_eq!(codes(&refused), ["NOT_FOUND"]);
    assert_eq!(refused["userErrors"][0]["field"], json!(["integrationId"]));
    assert_eq!(refused["runs"], json!([]));
    let garbage = sync_now(&app, &intruder, "gid://orderdeck/Integration/999999", None).await;
    assert_eq!(codes(&garbage), ["NOT_FOUND"]);
    let wrong_kind = sync_now(&app, &intruder, "gid://orderdeck/User/1", None).await;
    assert_eq!(codes(&wrong_kind), ["NOT_FOUND"]);

    let data = app
        .data(
            Some(&intruder),
            &sync_runs_query(),
            json!({ "id": gid(row.id) }),
        )
        .await;
    assert_eq!(data["syncRuns"]["totalCount"], 0);
    assert_eq!(data["syncRuns"]["edges"], json!([]));
    let data = app
        .data(
            Some(&intruder),
            INTEGRATION_SYNC,
            json!({ "id": gid(row.id) }),
        )
        .await;
    assert_eq!(data["integration"], Value::Null);

    assert_eq!(
        app.sandbox_requests(),
        requests,
        "the intruder reached the store"
    );
    assert_eq!(app.rows("sync_runs").await, 1);
}

#[tokio::test]
async fn sync_now_refuses_a_disconnected_store_and_anonymous_callers() {
    let app = spawn_app().await;
    let (token, row) = app.connected("gone@example.com").await;
    let res = app
        .data(
            Some(&token),
            "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { userErrors { code } } }",
            json!({ "i": { "id": gid(row.id) } }),
        )
        .await;
    assert_eq!(res["disconnectIntegration"]["userErrors"], json!([]));

    let refused = sync_now(&app, &token, &gid(row.id), Some("ORDERS")).await;
    assert_eq!(codes(&refused), ["INTEGRATION_DISCONNECTED"]);
    make_all_due(&app.state).await;
    assert!(run_once(&app.state, "scheduler").await.unwrap().is_empty());

    let anonymous = app
        .gql(
            None,
            &sync_now_query(),
            json!({ "i": { "integrationId": gid(row.id) } }),
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let anonymous = app
        .gql(None, &sync_runs_query(), json!({ "id": gid(row.id) }))
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    assert_eq!(app.rows("sync_runs").await, 0);
}

#[tokio::test]
async fn with_order_management_off_orders_are_not_imported() {
    let app = spawn_app().await;
    let (token, row) = app.connected("products-only@example.com").await;
    let res = app
        .data(
            Some(&token),
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { code } } }",
            json!({ "i": { "id": gid(row.id), "orderManagement": false } }),
        )
        .await;
    assert_eq!(res["updateIntegration"]["userErrors"], json!([]));

    let refused = sync_now(&app, &token, &gid(row.id), Some("ORDERS")).await;
    assert_eq!(codes(&refused), ["ORDER_MANAGEMENT_REQUIRED"]);
    let both = sync_now(&app, &token, &gid(row.id), None).await;
    assert_eq!(both["userErrors"], json!([]), "{both}");
    assert_eq!(both["runs"].as_array().unwrap().len(), 1);
    assert_eq!(both["runs"][0]["kind"], "PRODUCTS");
    make_all_due(&app.state).await;
    let runs = run_once(&app.state, "scheduler").await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].kind, SyncKind::Products);
    assert!(runs_in_db(&app.state)
        .await
        .iter()
        .all(|r| r.kind == SyncKind::Products));
}
