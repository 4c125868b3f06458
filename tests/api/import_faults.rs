//! An import through a failing store ends with exactly the data of a clean import.

use std::collections::BTreeMap;
use std::time::Duration;

use orderdeck::domain::SyncKind;
use orderdeck::entities::{integration, inventory_item, order, order_line, stock_movement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::support::TestApp;

/// What an account holds after its imports, in a form that compares across accounts.
async fn snapshot(
    app: &TestApp,
    i: &integration::Model,
) -> (BTreeMap<i64, String>, BTreeMap<String, i64>, usize) {
    let db = &app.state.db;
    let orders = order::Entity::find()
        .filter(order::Column::AccountId.eq(i.account_id))
        .all(db)
        .await
        .unwrap();
    let mut by_order = BTreeMap::new();
    for o in orders {
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(o.id))
            .order_by_asc(order_line::Column::ExternalId)
            .all(db)
            .await
            .unwrap();
        let lines: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    "{}:{:?}:{}:{}:{}",
                    l.external_id,
                    l.sku,
                    l.quantity,
                    l.unit_price,
                    l.inventory_item_id.is_some()
                )
            })
            .collect();
        by_order.insert(
            o.external_id,
            format!(
                "{:?} {} {} {:?} {}",
                o.status,
                o.total,
                o.customer_name,
                o.historical,
                lines.join(",")
            ),
        );
    }
    let items = inventory_item::Entity::find()
        .filter(inventory_item::Column::AccountId.eq(i.account_id))
        .all(db)
        .await
        .unwrap();
    let stock = items
        .into_iter()
        .map(|it| (it.sku.unwrap_or_default(), it.quantity))
        .collect();
    let ledger = stock_movement::Entity::find()
        .filter(stock_movement::Column::AccountId.eq(i.account_id))
        .all(db)
        .await
        .unwrap()
        .len();
    (by_order, stock, ledger)
}

async fn import(app: &TestApp, token: &str, i: &integration::Model) {
    let p = orderdeck::services::sessions::authenticate(&app.state, token)
        .await
        .unwrap()
        .unwrap();
    for kind in [SyncKind::Products, SyncKind::Orders] {
        let runs = orderdeck::sync::runner::sync_now(&app.state, &p, Some(i.id), Some(kind))
            .await
            .unwrap();
        for run in runs {
            assert_eq!(run.error, None, "{kind:?} run failed");
        }
    }
}

#[tokio::test]
async fn an_import_through_a_store_failing_a_fifth_of_its_requests_ends_with_the_data_of_a_clean_import(
) {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.products = 40;
            c.orders = 150;
            c.window = Duration::from_secs(1);
        })
        .spawn()
        .await;
    let extra = json!({ "historicalImport": "LAST_90_DAYS" });
    let (clean_token, clean) = app.connected_with("clean@example.com", extra.clone()).await;
    let (faulty_token, faulty) = app.connected_with("faulty@example.com", extra).await;
    import(&app, &clean_token, &clean).await;

    // A second account imports the same store while it fails: random 500s on a fifth of the
    // requests, plus a 429, a 503, a dropped connection and a malformed body.
    // (The client retries a call up to 8 times: the burst at the start leaves room for the
    // random failures after it.)
    app.faults(json!({
        "error_rate": 0.2,
        "random_status": 500,
        "schedule": [429, 503],
        "drop_connections": 1,
        "malformed_json": 1,
    }))
    .await;
    import(&app, &faulty_token, &faulty).await;
    app.clear_faults().await;

    let expected = snapshot(&app, &clean).await;
    assert!(
        expected.0.len() > 100,
        "the clean import brought {} orders",
        expected.0.len()
    );
    assert_eq!(snapshot(&app, &faulty).await, expected);

    // And running it again through the failing store changes nothing.
    app.faults(json!({ "error_rate": 0.2, "random_status": 500, "drop_connections": 2 }))
        .await;
    import(&app, &faulty_token, &faulty).await;
    app.clear_faults().await;
    assert_eq!(snapshot(&app, &faulty).await, expected);
}
