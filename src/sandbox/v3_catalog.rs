//! (to be written)

use actix_web::web;

/// Registers this module's API routes.
pub fn routes(_cfg: &mut web::ServiceConfig) {}

/// Registers this module's merchant actions under `/_sandbox/`.
pub fn control_routes(_cfg: &mut web::ServiceConfig) {}
