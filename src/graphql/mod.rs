//! The GraphQL schema: merged query and mutation roots per domain, their types and loaders.

mod accounts;
mod catalog;
mod connection;
mod context;
mod documents;
mod ids;
mod integrations;
mod loaders;
mod money;
mod order_actions;
mod orders;
mod pricing;
mod shipments;
mod stock;
mod sync;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

pub use context::RequestData;
pub use loaders::attach as attach_loaders;

/// Every query field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    accounts::AccountQuery,
    integrations::IntegrationQuery,
    catalog::CatalogQuery,
    orders::OrderQuery,
    sync::SyncQuery,
);

/// Every mutation field.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    accounts::AccountMutation,
    integrations::IntegrationMutation,
    sync::SyncMutation,
    stock::StockMutation,
    order_actions::OrderActionMutation,
    pricing::PricingMutation,
    documents::DocumentMutation,
    shipments::ShipmentMutation,
);

/// The served schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest selection accepted (GraphiQL's introspection query needs 13–15).
pub const MAX_DEPTH: usize = 16;
/// Highest complexity accepted; list fields count `first` times their selection. A page of
/// 100 orders with every field, lines, listings and shipments stays below it.
pub const MAX_COMPLEXITY: usize = 25_000;

/// The schema with its limits, without runtime data (enough to print the SDL).
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
}

/// The SDL that `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
