//! The GraphQL schema: merged query and mutation roots per domain, their types and loaders.

mod accounts;
mod audit;
mod batches;
mod bundles;
mod catalog;
mod connection;
mod context;
mod documents;
mod events;
mod ids;
mod integrations;
pub(crate) mod limits;
mod loaders;
mod merges;
mod metrics;
mod money;
mod order_actions;
mod orders;
mod pricing;
mod shipments;
mod stock;
mod stock_counts;
mod sync;
mod team;
mod text;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

pub use context::RequestData;
pub use events::{SubscriptionRoot, SubscriptionSlots};
pub use loaders::attach as attach_loaders;
pub use metrics::Counted;

/// Every query field.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    accounts::AccountQuery,
    integrations::IntegrationQuery,
    catalog::CatalogQuery,
    orders::OrderQuery,
    merges::MergeQuery,
    batches::BatchQuery,
    sync::SyncQuery,
    team::TeamQuery,
    audit::AuditQuery,
);

/// Every mutation field.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    integrations::IntegrationMutation,
    sync::SyncMutation,
    stock::StockMutation,
    bundles::BundleMutation,
    stock_counts::StockCountMutation,
    order_actions::OrderActionMutation,
    merges::MergeMutation,
    batches::BatchMutation,
    pricing::PricingMutation,
    documents::DocumentMutation,
    shipments::ShipmentMutation,
    team::TeamMutation,
);

/// The served schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest selection accepted (GraphiQL's introspection query needs 13–15).
pub const MAX_DEPTH: usize = 16;
/// Highest complexity accepted; list fields count `first` times their selection, plus what
/// their database work costs ([`QUERY_COST`], [`COUNT_COST`], [`search_cost`]). A page of 100
/// orders with every field, lines, listings and shipments stays below it; so do
/// [`limits::MAX_ROOT_FIELDS`] searches with their counts.
pub const MAX_COMPLEXITY: usize = 25_000;
/// Complexity of a list field's own query (on top of `first` × its selection).
pub const QUERY_COST: usize = 10;
/// Complexity of a `totalCount` (a count over every matching row).
pub const COUNT_COST: usize = 10;
/// Complexity added by a text search, by the length of the text: the trigram indexes answer
/// texts of 3 characters or more; shorter ones are compared with every row of the account.
pub const SHORT_SEARCH_COST: usize = 500;
/// Complexity added by a search of 3 characters or more.
pub const SEARCH_COST: usize = 50;

/// What a `search` filter adds to a list's complexity.
pub fn search_cost(search: Option<&str>) -> usize {
    match search.map(|s| s.trim().chars().count()) {
        None | Some(0) => 0,
        Some(1..=2) => SHORT_SEARCH_COST,
        Some(_) => SEARCH_COST,
    }
}

/// The schema with its limits, without runtime data (enough to print the SDL).
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_directives(limits::MAX_DIRECTIVES)
}

/// The SDL that `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
