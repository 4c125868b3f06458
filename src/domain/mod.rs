//! Pure types and rules of the domain: statuses, options, addresses, stored decimals, customs
//! declarations, password and input rules.
//! No I/O.

/// Declares a domain enumeration once: each variant's one name is its stored string (a `Text`
/// column), its GraphQL enum value and its JSON form. Doc comments become the GraphQL
/// descriptions; attributes before `enum` (e.g. `#[graphql(name = "Channel")]`) pass through.
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[doc = $doc:literal])* $variant:ident = $value:literal, )+
        }
    ) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            sea_orm::EnumIter,
            sea_orm::DeriveActiveEnum,
            async_graphql::Enum,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[doc = $doc])*
                #[sea_orm(string_value = $value)]
                #[graphql(name = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// The value as stored and as the schema spells it.
            #[allow(dead_code)]
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $value, )+
                }
            }
        }
    };
}

pub(crate) mod address;
pub(crate) mod catalog;
pub mod money;
pub(crate) mod orders;
pub mod password;
pub(crate) mod rules;
pub(crate) mod shipping;
pub(crate) mod stock;
pub(crate) mod stores;
pub(crate) mod sync_runs;
pub(crate) mod team;

pub use address::{ChannelShippingAddress, OrderAddress, PostalAddress, ShippingAddresses};
pub use catalog::StringList;
pub use orders::OrderStatus;
pub use shipping::{CustomsDeclaration, CustomsLine, ShipmentMethod, ShipmentPushState};
pub use stock::{
    PricePushState, PushKind, StockBuffer, StockBufferMode, StockCountMode, StockCountRowStatus,
    StockReason, StockTracking,
};
pub use stores::{
    ChannelKind, ConnectedVia, ContactMode, HealthState, HistoricalImport, IntegrationStatus,
    WebhookState,
};
pub use sync_runs::{SyncKind, SyncOutcome, SyncTrigger};
pub use team::{AuditAction, Permission, Role, SignInOutcome};
