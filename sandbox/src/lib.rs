//! The BigCommerce sandbox: a faithful local imitation of the parts of the BigCommerce REST API
//! orderdeck uses (see the repository's `docs/bigcommerce.md`), for tests, the demo and benchmarks.
//!
//! API routes live under `/stores/{hash}/v2|v3/…` exactly as on `api.bigcommerce.com`; test
//! controls live under `/_sandbox/…` and never mix with them. State is in memory, seeded
//! deterministically from a seed.

pub mod categories;
pub mod config;
pub mod control;
pub mod events;
pub mod format;
pub mod guard;
pub mod hooks;
pub mod inventory;
pub mod model;
pub mod oauth;
pub mod order_products;
pub mod order_views;
pub mod orders;
pub mod product_writes;
pub mod products;
pub mod request;
pub mod seed;
pub mod server;
pub mod shipments;
pub mod store;
pub mod variants;

pub use config::SandboxConfig;
pub use server::{Sandbox, SandboxHandle};
