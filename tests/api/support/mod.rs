//! What the API tests share: starting the app ([`TestApp::builder`], [`spawn_app`]), its
//! database, a GraphQL client, the sandbox, shared test data and waiting for conditions.
//! Test files import from here only, never from one another.

mod app;
mod db;
mod graphql;
mod sandbox;

pub use app::{closed_port_url, free_port, spawn_app, TestApp, APP_CLIENT_ID, APP_CLIENT_SECRET};
pub use db::TestDb;
pub use graphql::{codes, error_code, INTEGRATION_FIELDS, PASSWORD};
pub use sandbox::store_input;
