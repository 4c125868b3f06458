//! (to be written)

use actix_web::web;

/// Registers this module's API routes.
pub fn routes(_cfg: &mut web::ServiceConfig) {}

/// Starts the webhook delivery worker for this sandbox (called once from `Sandbox::bind`,
/// inside the tokio runtime).
pub fn start_delivery(_shared: super::server::Shared) {}
