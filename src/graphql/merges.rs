//! Merged orders: `mergeOrders`, `unmergeOrders`, `orderMerge` and `ordersMergeCandidates`
//! (docs/rules.md §6): orders of one store and one address shipped as one parcel.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, principal_with_turn, state};
use super::ids;
use super::orders::Order;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::error::{into_payload, UserError, UserErrorCode};
use crate::services::merges::{self, Merge};

/// Orders shipping as one parcel.
pub struct OrderMerge(pub Merge);

/// Orders of one store going to one address, shipped as one parcel: shipping any of them
/// (without naming lines) ships all, with one tracking number, and each order is pushed to
/// its store as shipped. The orders stay separate (own lines, stock and status).
#[Object]
impl OrderMerge {
    /// Global id (`gid://orderdeck/OrderMerge/…`).
    async fn id(&self) -> ID {
        ids::encode("OrderMerge", self.0.merge.id)
    }
    /// When the orders were merged.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.merge.created_at
    }
    /// The merged orders, oldest first.
    async fn orders(&self) -> Vec<Order> {
        self.0.orders.iter().cloned().map(Order).collect()
    }
}

/// A group of orders that could merge: one store, one address (compared without case and
/// punctuation), nothing shipped, none merged.
#[derive(SimpleObject)]
pub struct OrderMergeCandidate {
    /// The orders, oldest first (at most 50).
    pub orders: Vec<Order>,
}

/// Merges orders.
#[derive(InputObject)]
pub struct MergeOrdersInput {
    /// The orders (2–50): one store, one shipping address, nothing shipped yet, none merged.
    pub order_ids: Vec<ID>,
}

/// The outcome of `mergeOrders`.
#[derive(SimpleObject)]
pub struct MergeOrdersPayload {
    /// The merge; null when there are user errors.
    pub merge: Option<OrderMerge>,
    /// Why nothing was merged.
    pub user_errors: Vec<UserError>,
}

/// Takes a merge apart.
#[derive(InputObject)]
pub struct UnmergeOrdersInput {
    /// Global id of the merge (`Order.mergeId`).
    pub merge_id: ID,
}

/// The outcome of `unmergeOrders`.
#[derive(SimpleObject)]
pub struct UnmergeOrdersPayload {
    /// The orders, each on its own again; empty when there are user errors.
    pub orders: Vec<Order>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Merge queries.
#[derive(Default)]
pub struct MergeQuery;

#[Object]
impl MergeQuery {
    /// A merge of orders; null when there is none with this id in the account.
    async fn order_merge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the merge.")] id: ID,
    ) -> async_graphql::Result<Option<OrderMerge>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let Some(merge_id) = ids::decode("OrderMerge", &id) else {
            return Ok(None);
        };
        Ok(merges::get(state(ctx)?, p.account_id, merge_id)
            .await?
            .map(OrderMerge))
    }

    /// Groups of open orders that could merge (one store, one address, nothing shipped, none
    /// merged), the newest first. Looks at the 5,000 newest `NEW` orders.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn orders_merge_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Most groups returned (1–50).",
            default = 20,
            validator(minimum = 1, maximum = 50)
        )]
        first: i32,
    ) -> async_graphql::Result<Vec<OrderMergeCandidate>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let groups =
            merges::candidates(state(ctx)?, &p, usize::try_from(first).unwrap_or(20)).await?;
        Ok(groups
            .into_iter()
            .map(|orders| OrderMergeCandidate {
                orders: orders.into_iter().map(Order).collect(),
            })
            .collect())
    }
}

/// Merge mutations.
#[derive(Default)]
pub struct MergeMutation;

#[Object]
impl MergeMutation {
    /// Merges orders to ship as one parcel. `REQUIRED` (fewer than two orders), `INVALID`
    /// (more than 50), `NOT_FOUND`, `DIFFERENT_STORE`, `DIFFERENT_ADDRESS` (another address,
    /// or an order shipping to several), `ALREADY_MERGED`, `ALREADY_SHIPPED` (anything of it
    /// shipped), `ORDER_CANCELED` or `ORDER_NOT_SHIPPABLE` (refunded, unpaid), on
    /// `orderIds.<index>`. Stock does not move.
    async fn merge_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The orders.")] input: MergeOrdersInput,
    ) -> async_graphql::Result<MergeOrdersPayload> {
        let (p, allowed) = acting(ctx, Permission::Ship)?;
        let st = state(ctx)?;
        let decoded: Option<Vec<i64>> = input
            .order_ids
            .iter()
            .map(|id| ids::decode("Order", id))
            .collect();
        let result = text::then(allowed, async {
            match decoded {
                Some(ids) => merges::merge(st, &p, ids).await,
                None => Err(UserError::new(
                    "orderIds",
                    UserErrorCode::NotFound,
                    "No such order in your account.",
                )
                .into()),
            }
        })
        .await;
        let (merge, user_errors) = into_payload(result)?;
        if let Some(m) = &merge {
            let numbers: Vec<&str> = m.orders.iter().map(|o| o.number.as_str()).collect();
            let target = ids::encode("OrderMerge", m.merge.id).0;
            let summary = format!("orders {} merged", numbers.join(", "));
            audit::record(ctx, &p, AuditAction::MergeOrders, Some(target), summary).await;
        }
        Ok(MergeOrdersPayload {
            merge: merge.map(OrderMerge),
            user_errors,
        })
    }

    /// Takes a merge apart before it ships: its orders ship on their own again. `NOT_FOUND`
    /// on `mergeId`, or `ALREADY_SHIPPED` once anything of it shipped.
    async fn unmerge_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The merge.")] input: UnmergeOrdersInput,
    ) -> async_graphql::Result<UnmergeOrdersPayload> {
        let (p, allowed) = acting(ctx, Permission::Ship)?;
        let st = state(ctx)?;
        let merge_id = ids::decode("OrderMerge", &input.merge_id).unwrap_or(0);
        let result = text::then(allowed, merges::unmerge(st, &p, merge_id)).await;
        let (orders, user_errors) = into_payload(result)?;
        if let Some(orders) = &orders {
            let numbers: Vec<&str> = orders.iter().map(|o| o.number.as_str()).collect();
            let target = ids::encode("OrderMerge", merge_id).0;
            let summary = format!("orders {} unmerged", numbers.join(", "));
            audit::record(ctx, &p, AuditAction::UnmergeOrders, Some(target), summary).await;
        }
        Ok(UnmergeOrdersPayload {
            orders: orders.unwrap_or_default().into_iter().map(Order).collect(),
            user_errors,
        })
    }
}
