//! The BigCommerce REST API client (v2 and v3 under `{base}/stores/{hash}/`).

pub(crate) mod app;
pub mod carriers;
mod client;
mod hooks;
mod map;
mod store;
mod throttle;
mod wire;

pub use client::{BigCommerceClient, Credentials, StoreInfo};
pub use hooks::{Hook, NewHook};
pub use store::BigCommerceStore;
pub use throttle::{Quota, RetryPolicy};
