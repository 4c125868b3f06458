//! The BigCommerce sandbox: a faithful local imitation of the parts of the BigCommerce REST API
//! orderdeck uses (see `shared/docs/bigcommerce-api.md`), for tests, the demo and benchmarks.
//!
//! API routes live under `/stores/{hash}/v2|v3/…` exactly as on `api.bigcommerce.com`; test
//! controls live under `/_sandbox/…` and never mix with them. State is in memory, seeded
//! deterministically from a seed.

pub mod config;
pub mod control;
pub mod events;
pub mod format;
pub mod guard;
pub mod model;
pub mod oauth;
pub mod seed;
pub mod server;
pub mod v2_orders;
pub mod v2_store;
pub mod v2_views;
pub mod v3_catalog;
pub mod v3_hooks;
pub mod v3_inventory;

pub use config::SandboxConfig;
pub use server::{Sandbox, SandboxHandle};
