//! Reading orders and products through GraphQL: filters, search, paging, nested fields through
//! DataLoaders (a constant number of SQL statements per page), and tenancy.

use chrono::{Duration, Utc};
use orderdeck::domain::{OrderStatus, StockReason, StockTracking};
use orderdeck::entities::{integration, inventory_item, listing, order, order_line};
use orderdeck::services::ledger::{self, Movement};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use crate::support::{error_code, spawn_app, TestApp};

/// Inserts `n` orders of 3 lines each (SKUs `SKU-0`…`SKU-4`, linked to items and listings),
/// numbered 1000 + i, placed one hour apart, newest last.
async fn seed(
    app: &TestApp,
    integration: &integration::Model,
    n: i64,
) -> Vec<inventory_item::Model> {
    let db = &app.state.db;
    let now = Utc::now();
    let mut items = Vec::new();
    let mut listings = Vec::new();
    for s in 0..5 {
        let item = inventory_item::ActiveModel {
            account_id: Set(integration.account_id),
            sku: Set(Some(format!("SKU-{s}"))),
            name: Set(format!("Thing {s}")),
            quantity: Set(0),
            version: Set(0),
            low_stock_threshold: Set(if s == 0 { Some(5) } else { None }),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let movement = Movement {
            account_id: integration.account_id,
            item_id: item.id,
            reason: StockReason::InitialImport,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: None,
            idempotency_key: None,
            note: None,
            bundle_item_id: None,
        };
        ledger::set(db, movement, if s == 0 { 3 } else { 50 })
            .await
            .unwrap();
        listings.push(
            listing::ActiveModel {
                account_id: Set(integration.account_id),
                integration_id: Set(integration.id),
                inventory_item_id: Set(item.id),
                external_product_id: Set(100 + s),
                external_variant_id: Set(200 + s),
                tracking: Set(StockTracking::Product),
                sku: Set(Some(format!("SKU-{s}"))),
                title: Set(format!("Thing {s}")),
                price: Set("9.99".parse().unwrap()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap(),
        );
        items.push(item);
    }
    for i in 0..n {
        let placed = now - Duration::hours(n - i);
        let status = [
            OrderStatus::New,
            OrderStatus::Shipped,
            OrderStatus::Canceled,
        ][(i % 3) as usize];
        let o = order::ActiveModel {
            account_id: Set(integration.account_id),
            integration_id: Set(integration.id),
            external_id: Set(1000 + i),
            number: Set(format!("{}", 1000 + i)),
            status: Set(status),
            channel_status_id: Set(11),
            channel_status: Set("Awaiting Fulfillment".into()),
            currency: Set("EUR".into()),
            subtotal_ex_tax: Set("30.00".parse().unwrap()),
            subtotal_inc_tax: Set("36.90".parse().unwrap()),
            shipping_cost: Set("5".parse().unwrap()),
            tax_total: Set("6.90".parse().unwrap()),
            total: Set("41.9".parse().unwrap()),
            customer_name: Set(if i == 7 {
                "Łucja Żółć".into()
            } else {
                format!("Customer {i}")
            }),
            customer_email: Set(Some(format!("customer{i}@example.com"))),
            customer_phone: Set(None),
            billing_address: Set(None),
            shipping_addresses: Set(None),
            placed_at: Set(placed),
            channel_modified_at: Set(placed),
            shipped_at: Set(None),
            historical: Set(false),
            stock_taken: Set(false),
            restocked: Set(false),
            imported_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        for l in 0..3 {
            let s = ((i + l) % 5) as usize;
            order_line::ActiveModel {
                account_id: Set(integration.account_id),
                order_id: Set(o.id),
                external_id: Set(o.id * 10 + l),
                external_product_id: Set(100 + s as i64),
                external_variant_id: Set(200 + s as i64),
                order_address_id: Set(1),
                sku: Set(Some(format!("SKU-{s}"))),
                name: Set(format!("Thing {s}")),
                quantity: Set(1),
                quantity_shipped: Set(0),
                unit_price: Set("10.00".parse().unwrap()),
                total: Set("12.30".parse().unwrap()),
                weight: Set(None),
                listing_id: Set(Some(listings[s].id)),
                inventory_item_id: Set(Some(items[s].id)),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
    items
}

const PAGE: &str =
    "query($first: Int!, $after: String, $filter: OrderFilterInput, $sort: OrderSortInput) {
  orders(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id number status customerName total { amount currencyCode }
      integration { alias }
      lines { sku quantity unitPrice { amount } linked
        listing { title price integration { alias } product { sku stock } }
        product { sku stock listings { sku } } }
      shipments { trackingNumber pushState lines { sku quantity } } } } }";

#[tokio::test]
async fn a_page_of_100_orders_costs_as_many_sql_statements_as_a_page_of_10() {
    let app = spawn_app().await;
    let (token, integration) = app.connected("n1@example.com").await;
    seed(&app, &integration, 120).await;
    let run = |first: i64| {
        let (app, token) = (&app, &token);
        async move {
            let (statements, data) = app
                .counting_statements(token, PAGE, json!({ "first": first }))
                .await;
            assert_eq!(
                data["orders"]["nodes"].as_array().unwrap().len() as i64,
                first
            );
            statements
        }
    };
    let ten = run(10).await;
    let hundred = run(100).await;
    assert_eq!(
        ten, hundred,
        "statements for 10 orders: {ten}, for 100: {hundred}"
    );
    assert!(ten <= 8, "{ten} statements for one page");
}

async fn orders(app: &TestApp, token: &str, vars: Value) -> Value {
    app.data(Some(token), PAGE, vars).await["orders"].clone()
}

fn numbers(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn orders_are_filtered_searched_sorted_and_paged() {
    let app = spawn_app().await;
    let (token, integration) = app.connected("n2@example.com").await;
    seed(&app, &integration, 30).await;

    let newest = orders(&app, &token, json!({ "first": 3 })).await;
    assert_eq!(newest["totalCount"], 30);
    assert_eq!(numbers(&newest), vec!["1029", "1028", "1027"]);
    let next = orders(
        &app,
        &token,
        json!({ "first": 3, "after": newest["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(numbers(&next), vec!["1026", "1025", "1024"]);
    let oldest = orders(&app, &token, json!({ "first": 2, "sort": "OLDEST_FIRST" })).await;
    assert_eq!(numbers(&oldest), vec!["1000", "1001"]);

    let shipped = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "status": ["SHIPPED"] } }),
    )
    .await;
    assert_eq!(shipped["totalCount"], 10);
    assert!(shipped["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == "SHIPPED"));
    let two = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "status": ["SHIPPED", "CANCELED"] } }),
    )
    .await;
    assert_eq!(two["totalCount"], 20);

    let by_number = orders(
        &app,
        &token,
        json!({ "first": 5, "filter": { "search": "#1005" } }),
    )
    .await;
    assert_eq!(numbers(&by_number), vec!["1005"]);
    let by_email = orders(
        &app,
        &token,
        json!({ "first": 5, "filter": { "search": "CUSTOMER12@example" } }),
    )
    .await;
    assert_eq!(numbers(&by_email), vec!["1012"]);
    // Case-insensitive for every alphabet, on SQLite too (its trigram index folds case).
    for search in ["łucja", "Łucja Ż", "ŁUCJA ŻÓŁĆ", "cja żó"] {
        let by_name = orders(
            &app,
            &token,
            json!({ "first": 5, "filter": { "search": search } }),
        )
        .await;
        assert_eq!(numbers(&by_name), vec!["1007"], "{search}");
        assert_eq!(by_name["totalCount"], 1, "{search}");
    }
    // Text shorter than the index's three characters is matched by scanning.
    let short = orders(
        &app,
        &token,
        json!({ "first": 5, "filter": { "search": "Łu" } }),
    )
    .await;
    assert_eq!(numbers(&short), vec!["1007"]);
    let by_email_part = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "search": "r2" } }),
    )
    .await;
    // customer2, customer20 … customer29.
    assert_eq!(by_email_part["totalCount"], 11);
    // Wildcards and quotes are text, not patterns.
    for search in ["customer_1", "%example", "\"customer"] {
        let nothing = orders(
            &app,
            &token,
            json!({ "first": 5, "filter": { "search": search } }),
        )
        .await;
        assert_eq!(nothing["totalCount"], 0, "{search}");
    }
    let by_sku = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "sku": "SKU-4" } }),
    )
    .await;
    assert_eq!(by_sku["totalCount"], 18);
    let by_sku_search = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "search": "SKU-4" } }),
    )
    .await;
    assert_eq!(by_sku_search["totalCount"], 18);

    let from = (Utc::now() - Duration::minutes(330)).to_rfc3339();
    let recent = orders(
        &app,
        &token,
        json!({ "first": 100, "filter": { "placedFrom": from } }),
    )
    .await;
    assert_eq!(recent["totalCount"], 5);
    let other_store = orders(&app, &token, json!({ "first": 100, "filter": { "integrationId": "gid://orderdeck/Integration/999999" } })).await;
    assert_eq!(other_store["totalCount"], 0);

    let one = &newest["nodes"][0];
    assert_eq!(
        one["total"],
        json!({ "amount": "41.9", "currencyCode": "EUR" })
    );
    assert_eq!(one["lines"].as_array().unwrap().len(), 3);
    assert_eq!(
        one["lines"][0]["listing"]["integration"]["alias"],
        one["integration"]["alias"]
    );
}

/// Every way of asking for a total over a filter that only narrows by status and store (read
/// from the running counts) and the same filter with an all-time date range (orders counted).
async fn totals_both_ways(app: &TestApp, token: &str, integration: &str) -> Vec<(Value, Value)> {
    let mut pairs = Vec::new();
    for status in [json!(null), json!(["SHIPPED"]), json!(["NEW", "CANCELED"])] {
        for store in [json!(null), json!(integration)] {
            let filter = json!({ "status": status, "integrationId": store });
            let mut dated = filter.clone();
            dated["placedFrom"] = json!("2000-01-01T00:00:00Z");
            let ahead = orders(app, token, json!({ "first": 1, "filter": filter })).await;
            let counted = orders(app, token, json!({ "first": 1, "filter": dated })).await;
            pairs.push((ahead["totalCount"].clone(), counted["totalCount"].clone()));
        }
    }
    pairs
}

#[tokio::test]
async fn total_counts_stay_exact_when_orders_change_status_move_or_are_deleted() {
    let app = spawn_app().await;
    let (token, integration) = app.connected("counts@example.com").await;
    seed(&app, &integration, 12).await;
    let gid = format!("gid://orderdeck/Integration/{}", integration.id);
    let before = totals_both_ways(&app, &token, &gid).await;
    assert_eq!(before[0], (json!(12), json!(12)));
    assert_eq!(before[2], (json!(4), json!(4)));
    assert_eq!(before[4], (json!(8), json!(8)));

    let db = &app.state.db;
    let all = order::Entity::find()
        .filter(order::Column::AccountId.eq(integration.account_id))
        .order_by_asc(order::Column::Id)
        .all(db)
        .await
        .unwrap();
    // A status change, a change to the same status, an unrelated change, and deletes.
    let mut shipped: order::ActiveModel = all[0].clone().into();
    shipped.status = Set(OrderStatus::Shipped);
    shipped.update(db).await.unwrap();
    let mut same: order::ActiveModel = all[1].clone().into();
    same.status = Set(all[1].status);
    same.customer_name = Set("Renamed".into());
    same.update(db).await.unwrap();
    order::Entity::delete_by_id(all[2].id)
        .exec(db)
        .await
        .unwrap();
    order::Entity::delete_by_id(all[4].id)
        .exec(db)
        .await
        .unwrap();

    let after = totals_both_ways(&app, &token, &gid).await;
    for (ahead, counted) in &after {
        assert_eq!(ahead, counted, "{after:?}");
    }
    // SHIPPED: 4 + 1 moved in − 1 deleted; NEW 4 − 1 moved out, CANCELED 4 − 1 deleted.
    assert_eq!(after[0].0, json!(10));
    assert_eq!(after[2].0, json!(4));
    assert_eq!(after[4].0, json!(6));
    // The renamed order is found under its new name only.
    let renamed = orders(
        &app,
        &token,
        json!({ "first": 5, "filter": { "search": "renamed" } }),
    )
    .await;
    assert_eq!(renamed["totalCount"], 1);
    let deleted = orders(
        &app,
        &token,
        json!({ "first": 5, "filter": { "search": "customer2@" } }),
    )
    .await;
    assert_eq!(deleted["totalCount"], 0);
}

const PRODUCTS: &str = "query($filter: ProductFilterInput) { products(first: 50, filter: $filter) { totalCount nodes { id sku name stock lowStockThreshold listings { sku price tracking } } } }";

#[tokio::test]
async fn products_are_filtered_and_show_their_listings_and_ledger() {
    let app = spawn_app().await;
    let (token, integration) = app.connected("p1@example.com").await;
    seed(&app, &integration, 3).await;
    let all = app.data(Some(&token), PRODUCTS, json!({})).await["products"].clone();
    assert_eq!(all["totalCount"], 5);
    assert_eq!(
        all["nodes"][1]["listings"],
        json!([{ "sku": "SKU-1", "price": "9.99", "tracking": "PRODUCT" }])
    );
    let low = app
        .data(
            Some(&token),
            PRODUCTS,
            json!({ "filter": { "lowStock": true } }),
        )
        .await["products"]
        .clone();
    assert_eq!(low["totalCount"], 1);
    assert_eq!(low["nodes"][0]["sku"], "SKU-0");
    let search = app
        .data(
            Some(&token),
            PRODUCTS,
            json!({ "filter": { "search": "thing 3" } }),
        )
        .await["products"]
        .clone();
    assert_eq!(search["nodes"][0]["sku"], "SKU-3");

    let one = app
        .data(Some(&token), "{ product(sku: \"SKU-2\") { id stock stockMovements(first: 5) { totalCount nodes { delta quantityAfter reason } } } }", json!({}))
        .await["product"]
        .clone();
    assert_eq!(one["stock"], 50);
    assert_eq!(
        one["stockMovements"]["nodes"],
        json!([{ "delta": 50, "quantityAfter": 50, "reason": "INITIAL_IMPORT" }])
    );
    let ledger = app
        .data(
            Some(&token),
            "query($id: ID!) { stockMovements(productId: $id) { totalCount } }",
            json!({ "id": one["id"] }),
        )
        .await;
    assert_eq!(ledger["stockMovements"]["totalCount"], 1);
}

#[tokio::test]
async fn another_account_sees_none_of_the_orders_products_or_ledger() {
    let app = spawn_app().await;
    let (token_a, integration) = app.connected("a@example.com").await;
    seed(&app, &integration, 5).await;
    let token_b = app.signed_in("b@example.com").await;
    let a_order = orders(&app, &token_a, json!({ "first": 1 })).await["nodes"][0]["id"].clone();
    let a_product = app
        .data(
            Some(&token_a),
            "{ product(sku: \"SKU-1\") { id } }",
            json!({}),
        )
        .await["product"]["id"]
        .clone();

    assert_eq!(
        orders(&app, &token_b, json!({ "first": 100 })).await["totalCount"],
        0
    );
    assert_eq!(
        orders(
            &app,
            &token_b,
            json!({ "first": 100, "filter": { "search": "1001" } })
        )
        .await["totalCount"],
        0
    );
    let b = app
        .data(
            Some(&token_b),
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": a_order }),
        )
        .await;
    assert!(b["order"].is_null());
    assert_eq!(
        app.data(Some(&token_b), PRODUCTS, json!({})).await["products"]["totalCount"],
        0
    );
    let p = app
        .data(Some(&token_b), "query($id: ID!) { product(id: $id) { id } bySku: product(sku: \"SKU-1\") { id } stockMovements(productId: $id) { totalCount } }", json!({ "id": a_product }))
        .await;
    assert!(p["product"].is_null() && p["bySku"].is_null());
    assert_eq!(p["stockMovements"]["totalCount"], 0);
    for query in [
        "{ orders { totalCount } }",
        "{ products { totalCount } }",
        "{ product(sku: \"SKU-1\") { id } }",
    ] {
        assert_eq!(
            error_code(&app.gql(None, query, json!({})).await),
            "UNAUTHENTICATED",
            "{query}"
        );
    }
}
