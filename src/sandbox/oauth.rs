//! (to be written)

use actix_web::web;

/// Registers the OAuth login-host routes and their `/_sandbox/` controls.
pub fn routes(_cfg: &mut web::ServiceConfig) {}
