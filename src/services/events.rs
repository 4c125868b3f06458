//! Live events for GraphQL subscriptions: what changed, by id, published **after** the writing
//! transaction commits (never for rolled-back work).
//!
//! On SQLite (one process) an event goes straight to this process's subscribers through a
//! bounded in-process channel. On PostgreSQL every replica may hold subscribers, so events are
//! sent as `NOTIFY orderdeck_events` with their ids as a small JSON array (at most
//! [`PAYLOAD_BYTES`] per notification, below PostgreSQL's 8,000-byte limit; one statement
//! carries the notifications of one commit); each process `LISTEN`s and hands what it hears
//! to its own subscribers, which read the rows themselves. A subscriber that falls more than
//! [`BUFFERED`] events behind is dropped (its subscription ends with an error saying so)
//! instead of slowing writers or holding memory.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Events a subscriber may fall behind by before it is dropped. One commit publishes at most
/// a page of an import (250 orders with their lines' stock changes), so a subscriber keeping
/// up is never dropped by a burst. The ring is allocated once per process (about 80 bytes a
/// slot), not per subscriber.
pub const BUFFERED: usize = 8192;

/// The largest `NOTIFY` payload sent, in bytes (PostgreSQL refuses 8,000 and more).
pub const PAYLOAD_BYTES: usize = 7_000;

/// Notifications sent in one statement.
const NOTIFICATIONS_PER_STATEMENT: usize = 32;

/// The PostgreSQL channel events travel on.
pub const CHANNEL: &str = "orderdeck_events";

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// An order was created or changed (imported, shipped, canceled).
    OrderChanged {
        /// Its account.
        account_id: i64,
        /// Its store.
        integration_id: i64,
        /// The order.
        order_id: i64,
    },
    /// A product's stock changed.
    StockChanged {
        /// Its account.
        account_id: i64,
        /// The product.
        item_id: i64,
        /// The movement that changed it.
        movement_id: i64,
    },
    /// A sync run finished.
    SyncRunFinished {
        /// Its account.
        account_id: i64,
        /// The run.
        run_id: i64,
    },
    /// A store refused or failed a push: a listing's stock or price, or a shipment.
    PushFailed {
        /// Its account.
        account_id: i64,
        /// The listing whose stock or price push failed.
        listing_id: Option<i64>,
        /// The shipment whose push failed.
        shipment_id: Option<i64>,
    },
}

impl Event {
    /// The account the event belongs to; only its subscribers see it.
    pub fn account_id(&self) -> i64 {
        match *self {
            Event::OrderChanged { account_id, .. }
            | Event::StockChanged { account_id, .. }
            | Event::SyncRunFinished { account_id, .. }
            | Event::PushFailed { account_id, .. } => account_id,
        }
    }
}

/// The event bus of one process: cheap to clone.
#[derive(Clone, Debug)]
pub struct Events {
    local: broadcast::Sender<Event>,
    /// On PostgreSQL, the pool that sends `NOTIFY` (every process's listener delivers).
    notify: Option<DatabaseConnection>,
}

impl Events {
    /// A bus for `db`: in-process on SQLite; on PostgreSQL through `NOTIFY`, with a listener
    /// (started by [`Events::listen`]) feeding this process's subscribers.
    pub fn new(db: &DatabaseConnection) -> Self {
        let (local, _) = broadcast::channel(BUFFERED);
        let notify = (db.get_database_backend() == DbBackend::Postgres).then(|| db.clone());
        Self { local, notify }
    }

    /// Whether events travel through PostgreSQL.
    pub fn across_replicas(&self) -> bool {
        self.notify.is_some()
    }

    /// Publishes committed changes. Returns at once; a `NOTIFY` that fails is logged (the
    /// change itself is committed and stays).
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        let events: Vec<Event> = events.into_iter().collect();
        if events.is_empty() {
            return;
        }
        match &self.notify {
            None => {
                for e in events {
                    // No subscriber: nothing to do.
                    let _ = self.local.send(e);
                }
            }
            Some(db) => {
                let db = db.clone();
                tokio::spawn(async move {
                    for payloads in payloads(&events).chunks(NOTIFICATIONS_PER_STATEMENT) {
                        if let Err(err) = notify(&db, payloads).await {
                            tracing::warn!(error = %err, events = events.len(), "publishing events failed");
                        }
                    }
                });
            }
        }
    }

    /// A receiver of every event this process hears from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Hands an event heard from PostgreSQL to this process's subscribers.
    pub fn deliver(&self, event: Event) {
        let _ = self.local.send(event);
    }
}

/// The events as JSON arrays of at most [`PAYLOAD_BYTES`] each.
fn payloads(events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from("[");
    for e in events {
        let Ok(text) = serde_json::to_string(e) else {
            continue;
        };
        if current.len() + text.len() + 2 > PAYLOAD_BYTES && current.len() > 1 {
            current.push(']');
            out.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&text);
    }
    if current.len() > 1 {
        current.push(']');
        out.push(current);
    }
    out
}

/// Sends `payloads` on [`CHANNEL`] in one statement.
async fn notify(db: &DatabaseConnection, payloads: &[String]) -> Result<(), sea_orm::DbErr> {
    let calls: Vec<String> = (0..payloads.len())
        .map(|i| format!("pg_notify($1, ${})", i + 2))
        .collect();
    let mut values: Vec<sea_orm::Value> = vec![CHANNEL.into()];
    values.extend(payloads.iter().map(|p| p.as_str().into()));
    db.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT {}", calls.join(", ")),
        values,
    ))
    .await?;
    Ok(())
}

/// On PostgreSQL, listens on [`CHANNEL`] with its own connection to `url` and delivers what
/// it hears to `events`, reconnecting after a failure. It is listening when this returns, so
/// a server never accepts subscribers before it can hear other replicas. Does nothing on
/// SQLite.
pub async fn listen(
    events: Events,
    url: String,
) -> Result<Option<tokio::task::JoinHandle<()>>, sea_orm::sqlx::Error> {
    if !events.across_replicas() {
        return Ok(None);
    }
    let mut listener = connect(&url).await?;
    Ok(Some(tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_all(&events, &mut listener).await {
                tracing::warn!(error = %e, "the event listener lost its connection; reconnecting");
            }
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                match connect(&url).await {
                    Ok(l) => {
                        listener = l;
                        break;
                    }
                    Err(e) => tracing::warn!(error = %e, "the event listener cannot reconnect yet"),
                }
            }
        }
    })))
}

async fn connect(url: &str) -> Result<sea_orm::sqlx::postgres::PgListener, sea_orm::sqlx::Error> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn deliver_all(
    events: &Events,
    listener: &mut sea_orm::sqlx::postgres::PgListener,
) -> Result<(), sea_orm::sqlx::Error> {
    loop {
        let note = listener.recv().await?;
        match serde_json::from_str::<Vec<Event>>(note.payload()) {
            Ok(heard) => heard.into_iter().for_each(|e| events.deliver(e)),
            Err(e) => tracing::warn!(error = %e, "events that do not parse were ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_event_travels_as_a_small_json_text_and_back() {
        let e = Event::StockChanged {
            account_id: 7,
            item_id: 42,
            movement_id: 9_000_000_001,
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.len() < 200, "{text}");
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
    }

    #[test]
    fn many_events_travel_in_arrays_under_the_payload_limit() {
        let events: Vec<Event> = (0..1000)
            .map(|i| Event::StockChanged {
                account_id: 7,
                item_id: i,
                movement_id: 9_000_000_000 + i,
            })
            .collect();
        let texts = payloads(&events);
        assert!(texts.len() > 1, "{}", texts.len());
        assert!(texts.iter().all(|t| t.len() <= PAYLOAD_BYTES));
        let back: Vec<Event> = texts
            .iter()
            .flat_map(|t| serde_json::from_str::<Vec<Event>>(t).unwrap())
            .collect();
        assert_eq!(back, events);
        assert!(payloads(&[]).is_empty());
    }
}
