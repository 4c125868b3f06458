//! The sync engine: imports of orders and products per store, jobs claimed through database
//! leases, the scheduler, and the record of every run.

pub mod jobs;
pub mod orders;
pub mod products;
pub mod push;
pub mod runner;
pub mod scheduler;
pub(crate) mod shipments;
pub mod webhook_imports;

use crate::channels::bigcommerce::BigCommerceStore;
use crate::channels::{ChannelError, SalesChannel};
use crate::entities::integration;
use crate::error::AppError;
use crate::services::store_channel::{self, NoChannel};
use crate::state::AppState;

/// Counts of one import run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows created here.
    pub created: u64,
    /// Rows changed here.
    pub updated: u64,
    /// Rows seen and already up to date.
    pub unchanged: u64,
}

impl ImportReport {
    /// Adds another report's counts.
    pub fn add(&mut self, other: ImportReport) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// Why an import stopped.
#[derive(Debug)]
pub enum SyncError {
    /// The store refused or failed (after the client's retries).
    Channel(ChannelError),
    /// The database or a bug.
    App(AppError),
}

impl From<ChannelError> for SyncError {
    fn from(e: ChannelError) -> Self {
        SyncError::Channel(e)
    }
}

impl From<AppError> for SyncError {
    fn from(e: AppError) -> Self {
        SyncError::App(e)
    }
}

/// A database conflict with a concurrent transaction: the transaction can simply run again.
impl crate::db::Transient for SyncError {
    fn is_transient(&self) -> bool {
        match self {
            SyncError::App(a) => a.is_transient(),
            SyncError::Channel(_) => false,
        }
    }
    fn describe(&self) -> String {
        SyncError::describe(self)
    }
}

impl SyncError {
    /// What went wrong, for the log and the run's error text (a store's refusal, or the
    /// database's or a bug's cause: never sent to a GraphQL client as it is).
    pub fn describe(&self) -> String {
        match self {
            SyncError::App(a) => a.report().to_string(),
            SyncError::Channel(e) => format!("store: {e}"),
        }
    }
}

impl From<sea_orm::DbErr> for SyncError {
    fn from(e: sea_orm::DbErr) -> Self {
        SyncError::App(e.into())
    }
}

impl From<NoChannel> for SyncError {
    fn from(e: NoChannel) -> Self {
        match e {
            NoChannel::NoToken => SyncError::Channel(ChannelError::Unauthorized),
            NoChannel::Undecryptable(e) => SyncError::App(AppError::Internal(e)),
        }
    }
}

/// The channel handle of an integration (decrypts its token; `services::store_channel`).
pub fn channel_for(
    state: &AppState,
    integration: &integration::Model,
) -> Result<BigCommerceStore, SyncError> {
    Ok(store_channel::channel_for(state, integration)?)
}

/// Boxed form of [`channel_for`], for code that works with any channel.
pub fn dyn_channel_for(
    state: &AppState,
    integration: &integration::Model,
) -> Result<Box<dyn SalesChannel>, SyncError> {
    Ok(Box::new(channel_for(state, integration)?))
}
