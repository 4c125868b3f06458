//! Integration tests: each test spawns the server on a free port with its own database
//! (SQLite by default; PostgreSQL when TEST_DATABASE_URL is set) and a BigCommerce sandbox.
//! What the tests share is in `support/`: `spawn_app()`, or `TestApp::builder()` to adjust
//! the settings, the sandbox or serve the app publicly; test files import only from there.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test reads as one story: long test functions stay whole.
#![allow(clippy::too_many_lines)]

mod accounts;
mod app_install;
mod audit;
mod backups;
mod bc_client;
mod bundles;
mod cancel_delete;
mod cors;
mod documents;
mod files;
mod graphql_http;
mod health;
mod hostile;
mod import_faults;
mod import_orders;
mod import_products;
mod import_rules;
mod integrations;
mod layers;
mod logos;
mod logs;
mod low_stock;
mod metrics;
mod orders_query;
mod push;
mod replicas;
mod roles;
mod schema;
mod shipments;
mod sign_in;
mod startup_failures;
mod stock_counts;
mod stock_mutations;
mod store_health;
mod subscriptions;
mod support;
mod sync_engine;
mod tenancy;
mod warehouse;
mod webhooks;
