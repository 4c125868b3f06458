//! Relay connections with documented types: `edges`, `nodes`, `pageInfo`, `totalCount`.

use async_graphql::SimpleObject;

/// Where a page sits in its list.
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// Whether items come before this page.
    pub has_previous_page: bool,
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// Declares `<Name>Connection` and `<Name>Edge` for a node type.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (Relay connection).")]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $conn {
            /// The items of this page with their cursors.
            pub edges: Vec<$edge>,
            /// Where this page sits in the list.
            pub page_info: $crate::graphql::connection::PageInfo,
            /// How many items match, over all pages.
            #[graphql(complexity = "crate::graphql::COUNT_COST")]
            pub total_count: u64,
        }

        #[async_graphql::ComplexObject]
        impl $conn {
            /// The items of this page, without cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item, for `after`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl $conn {
            /// Builds a page from service results; `cursor` gives each item's cursor.
            pub fn build<T>(
                page: $crate::services::pagination::Page<T>,
                had_cursor: bool,
                cursor: impl Fn(&T) -> String,
                node: impl Fn(T) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|item| $edge {
                        cursor: cursor(&item),
                        node: node(item),
                    })
                    .collect();
                Self {
                    page_info: $crate::graphql::connection::PageInfo {
                        has_previous_page: had_cursor,
                        has_next_page: page.has_next_page,
                        start_cursor: edges.first().map(|e| e.cursor.clone()),
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                    total_count: page.total_count,
                }
            }
        }
    };
}

pub(crate) use connection;
