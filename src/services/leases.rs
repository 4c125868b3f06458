//! Leases: the one way rows are taken by a process for a while (sync jobs, queued pushes,
//! shipments waiting for their push).
//!
//! A leased table has a holder column and a lease-end column ([`Leased`]). A [`Lease`] is a
//! holder name and a length; [`Lease::take`] turns an `UPDATE` into "give these rows to me,
//! where nobody holds them now", and the affected-row count tells what was won. That works the
//! same on SQLite and PostgreSQL (no row locks needed), so two replicas never work on one row
//! at once, and a crashed process's rows are taken over once their lease runs out. Use cases
//! take rows inside their own transactions; the sync layer's workers take them with the same
//! calls.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, UpdateMany};

use crate::entities::{push_queue, shipment, sync_job};

/// How long a claimed shipment stays leased (well above the client's timeout, so a lease
/// never runs out while its request may still be on its way).
pub const SHIPMENT_LEASE: Duration = Duration::from_secs(120);
/// How long claimed push-queue rows stay leased (a push call takes well under this).
pub const PUSH_LEASE: Duration = Duration::from_secs(60);

/// A table whose rows are leased.
pub trait Leased: EntityTrait {
    /// Who holds the row (a lease's holder name), `NULL` when nobody does.
    const HOLDER: Self::Column;
    /// When the lease runs out, `NULL` when nobody holds the row.
    const UNTIL: Self::Column;
}

impl Leased for sync_job::Entity {
    const HOLDER: Self::Column = sync_job::Column::LeaseOwner;
    const UNTIL: Self::Column = sync_job::Column::LeaseExpiresAt;
}

impl Leased for push_queue::Entity {
    const HOLDER: Self::Column = push_queue::Column::ClaimedBy;
    const UNTIL: Self::Column = push_queue::Column::ClaimedUntil;
}

impl Leased for shipment::Entity {
    const HOLDER: Self::Column = shipment::Column::PushClaimedBy;
    const UNTIL: Self::Column = shipment::Column::PushClaimedUntil;
}

/// A holder name and how long what it takes stays its own.
#[derive(Clone, Debug)]
pub struct Lease {
    holder: String,
    length: Duration,
}

impl Lease {
    /// A lease held by `holder` (e.g. a worker's process id, which it keeps across runs).
    pub fn new(holder: impl Into<String>, length: Duration) -> Self {
        Self {
            holder: holder.into(),
            length,
        }
    }

    /// A lease under a fresh holder name, `{kind}:{process id}`, for one claim.
    pub fn fresh(kind: &str, length: Duration) -> Self {
        Self::new(format!("{kind}:{}", new_owner_id()), length)
    }

    /// A fresh shipment lease ([`SHIPMENT_LEASE`]).
    pub fn shipments(kind: &str) -> Self {
        Self::fresh(kind, SHIPMENT_LEASE)
    }

    /// A fresh push-queue lease ([`PUSH_LEASE`]).
    pub fn pushes(kind: &str) -> Self {
        Self::fresh(kind, PUSH_LEASE)
    }

    /// The holder's name, as written on the rows it holds.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// When a lease taken (or renewed) at `now` runs out.
    pub fn until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        later(now, self.length)
    }

    /// `update` giving the rows to this lease from `now` on, limited to rows nobody holds.
    pub fn take<E: Leased>(&self, update: UpdateMany<E>, now: DateTime<Utc>) -> UpdateMany<E> {
        update
            .col_expr(E::HOLDER, Expr::value(self.holder.as_str()))
            .col_expr(E::UNTIL, Expr::value(self.until(now)))
            .filter(free::<E>(now))
    }

    /// `update` extending this lease from `now` on, limited to rows it still holds.
    pub fn renew<E: Leased>(&self, update: UpdateMany<E>, now: DateTime<Utc>) -> UpdateMany<E> {
        update
            .col_expr(E::UNTIL, Expr::value(self.until(now)))
            .filter(self.holds::<E>())
    }

    /// `update` giving up this lease, limited to rows it still holds.
    pub fn give_up<E: Leased>(&self, update: UpdateMany<E>) -> UpdateMany<E> {
        give_up(update).filter(self.holds::<E>())
    }

    /// The rows this lease holds.
    pub fn holds<E: Leased>(&self) -> SimpleExpr {
        E::HOLDER.eq(self.holder.as_str())
    }
}

/// Rows nobody holds at `now`: never taken, given up, or their lease ran out.
pub fn free<E: Leased>(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(E::HOLDER.is_null())
        .add(E::UNTIL.is_null())
        .add(E::UNTIL.lt(now))
}

/// `update` clearing the lease of the rows it selects, whoever holds them (the holder itself
/// recording a row's outcome).
pub fn give_up<E: Leased>(update: UpdateMany<E>) -> UpdateMany<E> {
    update
        .col_expr(E::HOLDER, Expr::value(None::<String>))
        .col_expr(E::UNTIL, Expr::value(None::<DateTime<Utc>>))
}

/// `at + d`, saturating far in the future instead of overflowing.
pub fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    let delta = TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
    at.checked_add_signed(delta)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A lease owner id for this process: `hostname-pid-random`.
pub fn new_owner_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string());
    let mut random = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}-{}-{random}", std::process::id())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sea_orm::{DbBackend, QueryTrait};

    #[test]
    fn taking_rows_writes_the_holder_and_the_end_and_only_takes_free_rows() {
        let lease = Lease::new("worker-1", Duration::from_secs(60));
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let sql = lease
            .take(shipment::Entity::update_many(), now)
            .build(DbBackend::Postgres)
            .to_string();
        assert!(sql.contains("\"push_claimed_by\" = 'worker-1'"), "{sql}");
        assert!(sql.contains("2026-01-01 00:01:00"), "{sql}");
        assert!(sql.contains("\"push_claimed_until\" IS NULL"), "{sql}");
        assert!(
            sql.contains("\"push_claimed_until\" < '2026-01-01 00:00:00"),
            "{sql}"
        );
    }

    #[test]
    fn a_lease_end_past_the_calendar_saturates() {
        let lease = Lease::new("w", Duration::MAX);
        assert_eq!(lease.until(Utc::now()), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn fresh_leases_have_distinct_holders_named_after_their_kind() {
        let (a, b) = (Lease::pushes("price-now"), Lease::pushes("price-now"));
        assert!(a.holder().starts_with("price-now:"));
        assert_ne!(a.holder(), b.holder());
    }
}
