//! Tests of the BigCommerce sandbox against docs/bigcommerce.md §12: each spawns a sandbox on a
//! free port and talks to it over HTTP like a client of api.bigcommerce.com would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod catalog;
mod core;
mod helpers;
mod hooks;
mod inventory;
mod oauth;
mod orders;
