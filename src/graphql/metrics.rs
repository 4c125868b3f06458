//! Counts each GraphQL query and mutation by its operation name and outcome into the
//! process's metrics (installed by the composition root when metrics are on).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::Response;

use crate::metrics::Metrics;

/// The schema extension that counts operations (`orderdeck_graphql_operations_total`).
pub struct Counted(pub Metrics);

impl ExtensionFactory for Counted {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Counting(self.0.clone()))
    }
}

struct Counting(Metrics);

#[async_trait::async_trait]
impl Extension for Counting {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        self.0
            .graphql_operation(operation_name, response.errors.is_empty());
        response
    }
}
