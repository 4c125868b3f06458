//! sea-orm entities: database rows. Never exposed as GraphQL types directly.

pub(crate) mod account;
pub(crate) mod api_key;
pub(crate) mod app_installation;
pub(crate) mod audit_event;
pub mod batch;
pub mod batch_order;
pub mod bundle_component;
pub mod integration;
pub(crate) mod integration_logo;
pub mod inventory_item;
pub(crate) mod invitation;
pub(crate) mod invoice;
pub mod listing;
pub mod order;
pub mod order_line;
pub mod order_merge;
pub mod push_queue;
pub(crate) mod session;
pub mod shipment;
pub mod shipment_line;
pub(crate) mod sign_in_attempt;
pub mod stock_movement;
pub mod sync_job;
pub mod sync_run;
pub(crate) mod user;
pub(crate) mod webhook_delivery;
