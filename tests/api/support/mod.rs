//! What the API tests share: starting the app ([`TestApp::builder`], [`spawn_app`]), its
//! database, a GraphQL client, the sandbox, shared test data and waiting for conditions.
//! Test files import from here only, never from one another.

mod app;
mod channel;
mod db;
mod documents;
mod graphql;
mod logos;
mod sandbox;
mod shop;
mod stores;
mod team;
mod wait;
mod ws;

pub use app::{
    closed_port_url, free_port, random_secret_key, spawn_app, TestApp, APP_CLIENT_ID,
    APP_CLIENT_SECRET,
};
pub use channel::{dec, report, FakeChannel};
pub use db::TestDb;
pub use documents::{
    address, create_link, get, order_to_germany, order_with, shop_with_options, store_options,
    text, tool, LINK,
};
pub use graphql::{
    codes, error_code, integration_gid, order_gid, INTEGRATION_FIELDS, ME, PASSWORD,
};
pub use logos::{
    crc32, download, png, send_form, send_multipart, upload_mutation, upload_payload, Server,
    LOGO_FIELDS, PNG_SIGNATURE,
};
pub use sandbox::store_input;
pub use shop::{
    a_second_passes, adjust_stock, assert_ledger_explains, delete_product, error_field, product,
    shop, Shop,
};
pub use stores::{channel_stock, connect, create_product, push_app, sync};
pub use team::CREATE_KEY;
pub use wait::{wait_for, wait_until};
pub use ws::WsClient;
