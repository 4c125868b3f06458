//! sea-orm entities: database rows. Never exposed as GraphQL types directly.

pub mod account;
pub mod integration;
pub mod integration_logo;
pub mod session;
pub mod user;
