//! Order mutations: `cancelOrder` (here only; never sent to the store).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::audit;
use super::context::{acting, state};
use super::ids;
use super::orders::Order;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::error::{into_payload, UserError};
use crate::services::order_actions;

/// Cancels an order here.
#[derive(InputObject)]
pub struct CancelOrderInput {
    /// Global id of the order.
    pub order_id: ID,
}

/// The outcome of `cancelOrder`.
#[derive(SimpleObject)]
pub struct CancelOrderPayload {
    /// The order as it stands now (`CANCELED`).
    pub order: Option<Order>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Order mutations.
#[derive(Default)]
pub struct OrderActionMutation;

#[Object]
impl OrderActionMutation {
    /// Cancels an order here; nothing is sent to the store, and later imports keep it
    /// canceled. `NEW` or `UNPAID`: what it took off stock comes back (`ORDER_CANCELED`
    /// movements); `PARTIALLY_SHIPPED`: what had not shipped comes back; `SHIPPED`: no stock
    /// moves. An order already `CANCELED` is returned unchanged. `NOT_FOUND`, or
    /// `ORDER_NOT_CANCELABLE` for a `REFUNDED` order.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order.")] input: CancelOrderInput,
    ) -> async_graphql::Result<CancelOrderPayload> {
        let (p, allowed) = acting(ctx, Permission::CancelOrders)?;
        let id = ids::decode("Order", &input.order_id);
        let (order, user_errors) =
            into_payload(text::then(allowed, order_actions::cancel(state(ctx)?, &p, id)).await)?;
        if let Some(o) = &order {
            let target = ids::encode("Order", o.id).0;
            let summary = format!("order {} canceled", o.number);
            audit::record(ctx, &p, AuditAction::CancelOrder, Some(target), summary).await;
        }
        Ok(CancelOrderPayload {
            order: order.map(Order),
            user_errors,
        })
    }
}
