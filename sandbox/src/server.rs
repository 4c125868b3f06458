//! Starting the sandbox: seeded state, routes, the API guard and the Rust handle tests use.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::{web, App, HttpRequest, HttpServer};
use anyhow::Context;
use chrono::{DurationRound, Utc};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use crate::config::SandboxConfig;
use crate::guard::{self, Verdict};
use crate::model::{ApiAccount, SandboxState, Store};
use crate::{
    categories, control, hooks, inventory, oauth, order_products, orders, products, seed,
    shipments, store, variants,
};

/// The sandbox state shared by all workers.
pub type Shared = Arc<Mutex<SandboxState>>;

/// Locks the state, recovering from a poisoned lock (a panicked handler must not wedge tests).
pub fn lock(shared: &Shared) -> MutexGuard<'_, SandboxState> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds and serves sandboxes.
pub struct Sandbox;

/// The credentials of one store, as tests and the demo need them.
#[derive(Clone, Debug, Serialize)]
pub struct StoreCredentials {
    /// Store hash.
    pub hash: String,
    /// Store name.
    pub name: String,
    /// Full-access API account.
    pub client_id: String,
    /// Its token.
    pub access_token: String,
    /// A read-only account's token.
    pub read_only_token: String,
    /// A token with only `store_v2_information_read_only`.
    pub info_only_token: String,
}

impl StoreCredentials {
    fn of(store: &Store) -> Self {
        let token = |i: usize| {
            store
                .accounts
                .get(i)
                .map(|a: &ApiAccount| a.access_token.clone())
                .unwrap_or_default()
        };
        Self {
            hash: store.hash.clone(),
            name: store.name.clone(),
            client_id: store
                .accounts
                .first()
                .map(|a| a.client_id.clone())
                .unwrap_or_default(),
            access_token: token(0),
            read_only_token: token(1),
            info_only_token: token(2),
        }
    }
}

/// A running sandbox.
#[derive(Clone)]
pub struct SandboxHandle {
    /// Base URL (`http://127.0.0.1:port`): the API base and the OAuth login host.
    pub url: String,
    /// The state, for tests that arrange data directly.
    pub state: Shared,
    handle: ServerHandle,
}

impl Sandbox {
    /// Seeded state for `config`.
    pub fn state(config: SandboxConfig) -> Shared {
        let anchor = Utc::now()
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or_else(|_| Utc::now());
        let stores = seed::seed(&config, anchor);
        Arc::new(Mutex::new(SandboxState {
            config,
            stores,
            request_log: Default::default(),
            anchor,
            events: Default::default(),
            events_notify: Default::default(),
            oauth: Default::default(),
        }))
    }

    /// Binds `addr` and returns the handle and the server future (not yet running).
    pub fn bind(config: SandboxConfig, addr: &str) -> anyhow::Result<(SandboxHandle, Server)> {
        let listener =
            TcpListener::bind(addr).with_context(|| format!("binding the sandbox to {addr}"))?;
        let local = listener
            .local_addr()
            .context("reading the sandbox address")?;
        let shared = Self::state(config);
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(32 * 1024 * 1024))
                .configure(control::routes)
                .configure(oauth::routes)
                .configure(routes(data.get_ref().clone()))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .context("starting the sandbox server")?
        .run();
        hooks::start_delivery(shared.clone());
        let handle = SandboxHandle {
            url: format!("http://{local}"),
            state: shared,
            handle: server.handle(),
        };
        Ok((handle, server))
    }

    /// Starts a sandbox on a free port of 127.0.0.1 in the current tokio runtime.
    pub fn spawn(config: SandboxConfig) -> anyhow::Result<SandboxHandle> {
        let (handle, server) = Self::bind(config, "127.0.0.1:0")?;
        tokio::spawn(server);
        Ok(handle)
    }
}

impl SandboxHandle {
    /// The credentials of every store, in hash order.
    pub fn stores(&self) -> Vec<StoreCredentials> {
        lock(&self.state)
            .stores
            .values()
            .map(StoreCredentials::of)
            .collect()
    }

    /// The credentials of the first store.
    pub fn first_store(&self) -> StoreCredentials {
        self.stores()
            .into_iter()
            .next()
            .unwrap_or_else(|| StoreCredentials::of(&self.add_store_raw(0, 0)))
    }

    /// Adds a store with `products` seeded products and `orders` seeded orders.
    pub fn add_store(&self, products: usize, orders: usize) -> StoreCredentials {
        StoreCredentials::of(&self.add_store_raw(products, orders))
    }

    fn add_store_raw(&self, products: usize, orders: usize) -> Store {
        let mut state = lock(&self.state);
        let index = state.stores.len();
        let seed_value = state
            .config
            .seed
            .wrapping_mul(31)
            .wrapping_add(index as u64 + 1000);
        let mut rng = StdRng::seed_from_u64(seed_value);
        let mut store = seed::empty_store(&mut rng, index, state.config.quota);
        let anchor = state.anchor;
        let days = state.config.order_days;
        let (colours, shared) = (state.config.colours, state.config.shared_catalogue);
        seed::seed_catalog(&mut rng, &mut store, products, colours, shared, anchor);
        seed::seed_orders(&mut rng, &mut store, orders, days, anchor);
        state.stores.insert(store.hash.clone(), store.clone());
        store
    }

    /// Runs `f` on a store (`None` if the hash is unknown).
    pub fn with_store<R>(&self, hash: &str, f: impl FnOnce(&mut Store) -> R) -> Option<R> {
        lock(&self.state).stores.get_mut(hash).map(f)
    }

    /// Requests a store received for an endpoint key such as `GET /v2/orders`.
    pub fn count(&self, hash: &str, endpoint: &str) -> u64 {
        self.with_store(hash, |s| s.counters.get(endpoint).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

type ApiFuture = LocalBoxFuture<'static, Result<actix_web::dev::ServiceResponse, actix_web::Error>>;

/// The BigCommerce API routes under `/stores/{hash}`, behind the guard.
fn routes(shared: Shared) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let guard_state = shared.clone();
        cfg.service(
            web::scope("/stores/{hash}")
                .wrap_fn(move |req, srv| -> ApiFuture {
                    let hash = req.match_info().get("hash").unwrap_or_default().to_string();
                    let prefix = format!("/stores/{hash}/");
                    let path = req.path().strip_prefix(&prefix).unwrap_or("").to_string();
                    let method = req.method().clone();
                    let query = req.query_string().to_string();
                    let verdict = guard::check(&mut lock(&guard_state), &req, &hash, &path);
                    let shared = guard_state.clone();
                    match verdict {
                        Verdict::Reject(res) => {
                            let res = req.into_response(res).map_into_boxed_body();
                            guard::log(
                                &shared,
                                &hash,
                                &method,
                                &path,
                                &query,
                                res.status().as_u16(),
                            );
                            async move { Ok(res) }.boxed_local()
                        }
                        Verdict::Pass {
                            headers,
                            delay,
                            lose,
                        } => {
                            let call = srv.call(req);
                            async move {
                                if !delay.is_zero() {
                                    tokio::time::sleep(delay).await;
                                }
                                let res =
                                    guard::finish(call.await?.map_into_boxed_body(), &headers);
                                // The log keeps what the handler did; the client gets nothing.
                                guard::log(
                                    &shared,
                                    &hash,
                                    &method,
                                    &path,
                                    &query,
                                    res.status().as_u16(),
                                );
                                if lose {
                                    return Ok(res
                                        .into_response(guard::dropped_connection())
                                        .map_into_boxed_body());
                                }
                                Ok(res)
                            }
                            .boxed_local()
                        }
                    }
                })
                .configure(store::routes)
                .configure(orders::routes)
                .configure(order_products::routes)
                .configure(shipments::routes)
                .configure(products::routes)
                .configure(variants::routes)
                .configure(categories::routes)
                .configure(inventory::routes)
                .configure(hooks::routes)
                .default_service(web::to(|req: HttpRequest| async move {
                    let path = req.path().splitn(4, '/').nth(3).unwrap_or("").to_string();
                    guard::not_found(&path)
                })),
        );
    }
}
