//! sea-orm entities: database rows. Never exposed as GraphQL types directly.

pub mod account;
pub mod app_installation;
pub mod integration;
pub mod integration_logo;
pub mod inventory_item;
pub mod invoice;
pub mod listing;
pub mod order;
pub mod order_line;
pub mod push_queue;
pub mod session;
pub mod shipment;
pub mod shipment_line;
pub mod stock_movement;
pub mod sync_job;
pub mod sync_run;
pub mod user;
pub mod webhook_delivery;
