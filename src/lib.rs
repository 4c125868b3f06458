//! orderdeck: a self-hosted multichannel order and inventory manager with a GraphQL API.

/// `orderdeck backup` and `restore`: consistent SQLite copies, checked.
pub mod backup;
/// Sales channels (BigCommerce) behind typed clients.
pub mod channels;
/// Typed settings: defaults, optional file, environment.
pub mod config;
/// Server key, token encryption, token and password hashing.
pub mod crypto;
/// Database connection and migrations.
pub mod db;
/// Pure domain types and rules.
pub mod domain;
/// sea-orm entities (database rows).
pub mod entities;
/// The application error and its mapping to GraphQL.
pub mod error;
/// Turns per account, so one account cannot take the server from the others.
pub(crate) mod fairness;
/// The GraphQL schema.
pub mod graphql;
/// HTTP routes.
pub(crate) mod http;
/// Prometheus metrics of the process (`GET /metrics` on its own address).
pub mod metrics;
/// PDF invoices and shipping labels from `templates/`.
pub mod pdf;
/// Secrets in memory (never printed) and masked database URLs.
pub mod secret;
/// Use cases shared by GraphQL, HTTP and workers.
pub mod services;
/// The composition root.
pub mod startup;
/// Shared state handed to handlers.
pub mod state;
/// The sync engine: imports, jobs, scheduler.
pub mod sync;
/// Logging setup.
pub mod telemetry;
