//! The BigCommerce REST API client (v2 and v3 under `{base}/stores/{hash}/`).

mod client;
mod wire;

pub use client::{BigCommerceClient, Credentials, StoreInfo};
