//! Tests of the BigCommerce sandbox against docs/bigcommerce.md §12: each spawns a sandbox on a
//! free port and talks to it over HTTP like a client of api.bigcommerce.com would.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A test reads as one story: long test functions stay whole.
#![allow(clippy::too_many_lines)]

mod catalog;
mod core;
mod helpers;
mod hooks;
mod inventory;
mod oauth;
mod orders;
