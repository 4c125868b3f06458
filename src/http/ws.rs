//! `GET /graphql/ws`: GraphQL subscriptions over WebSocket, protocol `graphql-transport-ws`
//! (what the `graphql-ws` client and GraphiQL speak; the older `graphql-ws` protocol is
//! accepted too). The bearer token travels in `connection_init`'s payload
//! (`{"Authorization": "Bearer …"}`); without a valid one the connection is closed (4403).
//! A caller holds at most [`CONNECTIONS_PER_CALLER`] connections, each at most
//! `graphql::events::SUBSCRIPTIONS_PER_CONNECTION` subscriptions. A connection one of whose
//! subscriptions fell too far behind its events is closed with 1008 and says so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use futures_util::StreamExt;

use crate::graphql::{AppSchema, RequestData, SubscriptionSlots};
use crate::services::sessions::{self, Actor, Client};
use crate::state::AppState;

/// Connections one user session or API key may hold at once.
pub const CONNECTIONS_PER_CALLER: usize = 10;

/// The close reason of a connection one of whose subscriptions fell too far behind (code
/// 1008, policy).
const TOO_SLOW: &str =
    "Too slow: a subscription fell too far behind its events. Reconnect and re-read what changed.";

/// Largest message a client may send (a subscription document), in bytes.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Open connections per caller, in this process.
#[derive(Clone, Default)]
pub struct Connections(Arc<Mutex<HashMap<Actor, usize>>>);

/// One counted connection; uncounted when dropped.
struct Counted {
    connections: Connections,
    actor: Actor,
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Ok(mut open) = self.connections.0.lock() {
            if let Some(n) = open.get_mut(&self.actor) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.actor);
                }
            }
        }
    }
}

impl Connections {
    /// Counts one more connection of `actor`, unless it holds the most already.
    fn admit(&self, actor: Actor) -> Option<Counted> {
        let mut open = self.0.lock().ok()?;
        let n = open.entry(actor).or_insert(0);
        if *n >= CONNECTIONS_PER_CALLER {
            return None;
        }
        *n += 1;
        Some(Counted {
            connections: self.clone(),
            actor,
        })
    }
}

/// The `Authorization` value of a `connection_init` payload (any case of the key).
fn bearer_of(payload: &serde_json::Value) -> Option<String> {
    let value = payload.as_object()?.iter().find_map(|(k, v)| {
        k.eq_ignore_ascii_case("authorization")
            .then(|| v.as_str())
            .flatten()
    })?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Upgrades the request and serves the subscriptions of one connection.
pub async fn subscriptions(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
    connections: web::Data<Connections>,
) -> actix_web::Result<HttpResponse> {
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("graphql-transport-ws");
    let protocol = offered
        .split(',')
        .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    let (response, mut session, messages) =
        actix_ws::handle_with_protocols(&req, body, &["graphql-transport-ws", "graphql-ws"])?;
    let client = Client {
        address: req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
        user_agent: None,
    };
    let held: Arc<Mutex<Option<Counted>>> = Arc::new(Mutex::new(None));
    let slots = SubscriptionSlots::default();
    let too_slow = slots.too_slow.clone();
    let on_init = {
        let (state, connections, held) =
            (state.clone(), connections.get_ref().clone(), held.clone());
        move |payload: serde_json::Value| async move {
            let token = bearer_of(&payload).ok_or_else(|| {
                async_graphql::Error::new(
                    "Send {\"Authorization\": \"Bearer <token>\"} in connection_init.",
                )
            })?;
            let principal = sessions::authenticate(&state, &token)
                .await
                .map_err(|_| {
                    async_graphql::Error::new("The server cannot check credentials right now.")
                })?
                .ok_or_else(|| async_graphql::Error::new("The token is not valid."))?;
            let counted = connections.admit(principal.actor).ok_or_else(|| {
                async_graphql::Error::new(format!(
                    "At most {CONNECTIONS_PER_CALLER} subscription connections per login or key."
                ))
            })?;
            if let Ok(mut slot) = held.lock() {
                *slot = Some(counted);
            }
            let mut data = Data::default();
            data.insert(RequestData {
                principal: Some(principal),
                client,
            });
            data.insert(slots);
            Ok(data)
        }
    };
    let incoming = messages
        .max_frame_size(MAX_MESSAGE_BYTES)
        .take_while(|m| {
            std::future::ready(matches!(
                m,
                Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_))
            ))
        })
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let schema = schema.get_ref().clone();
    actix_web::rt::spawn(async move {
        let mut ws =
            std::pin::pin!(WebSocket::new(schema, incoming, protocol).on_connection_init(on_init));
        loop {
            // What the subscriptions have to say goes first (a dropped one's error included);
            // then a subscription dropped as too slow closes the connection.
            let msg = tokio::select! {
                biased;
                msg = ws.next() => msg,
                () = too_slow.notified() => {
                    let reason = CloseReason {
                        code: CloseCode::Policy,
                        description: Some(TOO_SLOW.into()),
                    };
                    let _ = session.close(Some(reason)).await;
                    return;
                }
            };
            let Some(msg) = msg else { break };
            let sent = match msg {
                WsMessage::Text(text) => session.text(text).await,
                WsMessage::Close(code, reason) => {
                    // A refused `connection_init` is 4403 Forbidden in graphql-transport-ws
                    // (async-graphql says 1002).
                    let admitted = held.lock().is_ok_and(|h| h.is_some());
                    let code = if code == 1002 && !admitted {
                        4403
                    } else {
                        code
                    };
                    let reason = CloseReason {
                        code: CloseCode::from(code),
                        description: Some(reason),
                    };
                    let _ = session.close(Some(reason)).await;
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}
