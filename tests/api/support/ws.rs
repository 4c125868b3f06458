//! A `graphql-transport-ws` client for the subscription tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::app::TestApp;

/// One WebSocket connection to `/graphql/ws`.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl TestApp {
    /// Opens `/graphql/ws` and sends `connection_init` with `token` (or none).
    pub async fn ws(&self, token: Option<&str>) -> WsClient {
        let url = format!("{}/graphql/ws", self.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut client = WsClient { socket };
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }

    /// Opens `/graphql/ws` with `token`, waits for `connection_ack`, and subscribes with
    /// `query` under id `1`.
    pub async fn subscribed(&self, token: &str, query: &str) -> WsClient {
        let mut client = self.ws(Some(token)).await;
        let ack = client
            .next(Duration::from_secs(5))
            .await
            .expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
            .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }))
            .await;
        client
    }
}

impl WsClient {
    /// Sends one message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next text message within `wait`, parsed; `Some({"type": "closed", "code": …})`
    /// when the server closes; `None` when nothing came.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next()).await.ok()?;
            match message {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((0, String::new()));
                    return Some(json!({ "type": "closed", "code": code, "reason": reason }));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    return Some(json!({ "type": "closed", "code": 0, "reason": "" }));
                }
            }
        }
    }

    /// The next `next` message's `data` within `wait`, skipping pings; `None` when none came.
    pub async fn event(&mut self, wait: Duration) -> Option<Value> {
        let started = std::time::Instant::now();
        while let Some(left) = wait.checked_sub(started.elapsed()) {
            let m = self.next(left).await?;
            match m["type"].as_str() {
                Some("next") => return Some(m["payload"].clone()),
                Some("ping") => self.send(json!({ "type": "pong" })).await,
                _ => panic!("unexpected message: {m}"),
            }
        }
        None
    }
}
