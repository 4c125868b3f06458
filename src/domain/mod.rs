//! Pure types and rules of the domain: statuses, options, addresses, password and input rules.
//! No I/O.

pub mod address;
pub mod enums;
pub mod password;
pub mod rules;
pub mod shipping;
pub mod status;

pub use address::PostalAddress;
pub use enums::{
    ChannelKind, ConnectedVia, ContactMode, HistoricalImport, IntegrationStatus, WebhookState,
};
pub use shipping::{ShipmentMethod, ShipmentPushState};
pub use status::{
    OrderStatus, PricePushState, PushKind, StockReason, StockTracking, SyncKind, SyncOutcome,
    SyncTrigger,
};
