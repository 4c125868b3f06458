//! `orderdeck demo`: the server on SQLite plus the built-in BigCommerce sandbox, with a demo
//! account that has a sandbox store connected. The first thing a new user runs.

use anyhow::Context;

use orderdeck::config::Settings;
use orderdeck::domain::{ContactMode, HistoricalImport, PostalAddress, Role};
use orderdeck::entities::integration;
use orderdeck::error::AppResult;
use orderdeck::services::{accounts, integrations, sessions, team, Principal};
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig};

/// Demo login.
pub const DEMO_EMAIL: &str = "demo@orderdeck.local";
/// Demo password (the demo is local-only).
pub const DEMO_PASSWORD: &str = "orderdeck-demo";

/// The demo's STAFF user: ships and prints, but may not change prices, set stock figures or
/// touch the stores.
pub const DEMO_STAFF_EMAIL: &str = "packer@orderdeck.local";
/// Its password.
pub const DEMO_STAFF_PASSWORD: &str = "orderdeck-demo-packer";

/// Starts the sandbox and the server, prepares the demo account, prints how to use them, and
/// serves until stopped.
pub async fn run(mut settings: Settings, sandbox_bind: &str) -> anyhow::Result<()> {
    let (sandbox, sandbox_server) = Sandbox::bind(
        SandboxConfig {
            stores: 2,
            orders: 500,
            products: 100,
            // One stock figure per SKU, pushed to every store: the demo's two stores sell
            // mostly the same products.
            shared_catalogue: true,
            ..SandboxConfig::default()
        },
        sandbox_bind,
    )?;
    tokio::spawn(sandbox_server);
    settings.bigcommerce_api_url = sandbox.url.clone();
    // The sandbox reaches this server directly: order webhooks work in the demo too.
    if settings.public_url.is_none() {
        if let Ok(mut addr) = settings.bind_addr() {
            if addr.port() != 0 {
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                settings.public_url = Some(format!("http://{addr}"));
            }
        }
    }
    if settings.database_url.is_none() {
        // Keep demo data apart from a real `serve` database.
        settings.data_dir = settings.data_dir.join("demo");
    }
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let store = sandbox.first_store();

    let mut input = sandbox_connect_input(&store, HistoricalImport::Last30Days);
    input.options.ioss_number = Some("IM2760000001".into());
    input.options.return_address = Some(PostalAddress {
        name: None,
        company: Some("Demo Company".into()),
        street1: "1 Sandbox Way".into(),
        street2: None,
        city: "Austin".into(),
        state: Some("TX".into()),
        postal_code: Some("78751".into()),
        country_code: "US".into(),
    });
    input.options.phone = Some("+1 555 0100".into());
    input.options.email = Some("shipping@demo.example".into());
    let (principal, token, connected) =
        account_with_store(&state, "Demo Company", DEMO_EMAIL, DEMO_PASSWORD, input).await?;
    let mut integration_ids = Vec::new();
    match connected {
        Ok(i) => integration_ids.push(i.id),
        Err(e) => tracing::info!(error = ?e, "demo store not connected (already connected?)"),
    }
    integration_ids.extend(other_stores(&state, &principal, &sandbox.stores()[1..]).await);
    staff_member(&state, &principal).await;
    // The first imports, recorded like any other run, so the demo opens with data.
    let mut imported = Vec::new();
    for id in integration_ids {
        match orderdeck::sync::runner::sync_now(&state, &principal, Some(id), None).await {
            Ok(runs) => imported.extend(runs),
            Err(e) => tracing::warn!(error = ?e, "demo import failed"),
        }
    }
    let bundle = demo_bundle(&state, &principal).await;
    let addr = state
        .settings
        .bind_addr()
        .context("reading the bind address")?;
    println!();
    println!("orderdeck demo is running");
    println!(
        "  GraphiQL:   http://{}:{}/graphiql#token={token}   (signed in as the owner)",
        addr.ip(),
        app.port()
    );
    println!("  login:      {DEMO_EMAIL} / {DEMO_PASSWORD}  (OWNER)");
    println!(
        "              {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}  (STAFF: ships and prints; no prices, stock figures or stores)"
    );
    println!("  token:      {}", token);
    println!(
        "              (GraphiQL → Headers: {{\"Authorization\": \"Bearer {}\"}})",
        token
    );
    for run in &imported {
        println!(
            "  imported:   store {} {:?}: {} created, {} updated, {} API calls ({:?})",
            run.integration_id, run.kind, run.created, run.updated, run.api_calls, run.outcome
        );
    }
    if let Some(line) = bundle {
        println!("  bundle:     {line}");
    }
    println!(
        "  sandbox:    {} (BigCommerce imitation; controls at /_sandbox/stores)",
        sandbox.url
    );
    for s in sandbox.stores() {
        println!(
            "    store {:<16} hash={} token={}",
            s.name, s.hash, s.access_token
        );
    }
    println!();
    app.run_until_stopped().await?;
    sandbox.stop().await;
    Ok(())
}

/// Makes SKU-00002, listed on both demo stores, a bundle of 2 × SKU-00000 and 1 × SKU-00001
/// (once: a later run on the same data finds it a bundle already). What it did, for the banner.
async fn demo_bundle(state: &AppState, owner: &Principal) -> Option<String> {
    use orderdeck::services::bundles::{self, ComponentInput, NewBundle};
    let part = |sku: &str, quantity| ComponentInput {
        sku: sku.into(),
        quantity,
    };
    let bundle = NewBundle {
        sku: "SKU-00002".into(),
        name: Some("Demo gift set".into()),
        components: vec![part("SKU-00000", 2), part("SKU-00001", 1)],
    };
    match bundles::create(state, owner, bundle).await {
        Ok(_) => Some(
            "SKU-00002 \"Demo gift set\" = 2 × SKU-00000 + 1 × SKU-00001 (pushed to both stores)"
                .into(),
        ),
        Err(e) => {
            tracing::info!(error = %e.report(), "demo bundle not created (there already?)");
            None
        }
    }
}

/// Connects the sandbox's other stores to the demo account (they share most SKUs with the
/// first: one stock figure, pushed to each): the new integrations' ids.
async fn other_stores(
    state: &AppState,
    owner: &Principal,
    stores: &[StoreCredentials],
) -> Vec<i64> {
    let mut ids = Vec::new();
    for store in stores {
        let input = sandbox_connect_input(store, HistoricalImport::Last30Days);
        match integrations::connect(state, owner, input).await {
            Ok(i) => ids.push(i.id),
            Err(e) => {
                tracing::info!(error = ?e, store = %store.hash, "demo store not connected (already connected?)")
            }
        }
    }
    ids
}

/// Invites the demo's STAFF user into the demo account and registers it (once: a later run on
/// the same data finds it there).
async fn staff_member(state: &AppState, owner: &Principal) {
    let invited = team::invite(
        state,
        owner,
        team::NewInvitation {
            email: DEMO_STAFF_EMAIL.into(),
            role: Role::Staff,
        },
    )
    .await;
    let code = match invited {
        Ok(created) => created.code,
        Err(e) => {
            tracing::info!(error = ?e, "demo staff user not invited (already there?)");
            return;
        }
    };
    let joined = accounts::register(
        state,
        accounts::RegisterInput {
            account_name: String::new(),
            email: DEMO_STAFF_EMAIL.into(),
            password: DEMO_STAFF_PASSWORD.into(),
            invitation_code: Some(code),
        },
    )
    .await;
    if let Err(e) = joined {
        tracing::warn!(error = ?e, "the demo staff user could not join");
    }
}

/// `connectBigCommerce` options for a sandbox store: order and inventory management on, no
/// contact details.
pub fn sandbox_connect_input(
    store: &StoreCredentials,
    historical: HistoricalImport,
) -> integrations::ConnectInput {
    integrations::ConnectInput {
        store_hash: store.hash.clone(),
        client_id: store.client_id.clone(),
        access_token: store.access_token.clone(),
        options: integrations::StoreOptions {
            alias: None,
            order_management: true,
            inventory_management: true,
            historical_import: historical,
            historical_import_since: None,
            ioss_number: None,
            return_address: None,
            phone: None,
            phone_mode: ContactMode::Prefill,
            email: None,
            email_mode: ContactMode::Prefill,
        },
    }
}

/// Registers `email` (when new), logs in, and connects a store: the principal, a bearer
/// token, and the connection's outcome (an error when, e.g., it was connected already).
pub async fn account_with_store(
    state: &AppState,
    account_name: &str,
    email: &str,
    password: &str,
    input: integrations::ConnectInput,
) -> anyhow::Result<(Principal, String, AppResult<integration::Model>)> {
    let registered = accounts::register(
        state,
        accounts::RegisterInput {
            account_name: account_name.into(),
            email: email.into(),
            password: password.into(),
            invitation_code: None,
        },
    )
    .await;
    if let Err(e) = &registered {
        // Already registered by an earlier run on the same data directory.
        tracing::info!(error = ?e, "account exists");
    }
    let login = sessions::login(state, email, password, &sessions::Client::default())
        .await
        .map_err(|e| anyhow::anyhow!("logging in {email}: {e:?}"))?;
    let principal = login.principal;
    let connected = integrations::connect(state, &principal, input).await;
    Ok((principal, login.token, connected))
}

/// Options of `orderdeck sandbox`.
#[derive(clap::Args)]
pub struct SandboxArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: String,
    /// Stores to seed.
    #[arg(long, default_value_t = 2)]
    stores: usize,
    /// Seed of the generated data (same seed, same data).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Orders per store.
    #[arg(long, default_value_t = 200)]
    orders: usize,
    /// Products per store.
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Colours of products with variants: 0 gives sizes only (2–4 variants); N > 0 gives one
    /// variant per size and colour (at most 6 colours).
    #[arg(long, default_value_t = 0)]
    colours: usize,
    /// The stores share a catalogue: four products in five have the same SKU on every store.
    #[arg(long)]
    shared_catalogue: bool,
    /// Orders spread over this many days before now.
    #[arg(long, default_value_t = 90)]
    order_days: i64,
    /// Requests per rate-limit window per store (150 Standard/Plus, 450 Pro).
    #[arg(long, default_value_t = 150)]
    quota: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    window_ms: u64,
    /// Unknown store hashes answer 404 instead of 403.
    #[arg(long)]
    unknown_store_404: bool,
    /// `limit` above 250 answers 413 instead of being clamped.
    #[arg(long)]
    refuse_over_limit: bool,
    /// Delay before inventory writes become visible, in milliseconds.
    #[arg(long, default_value_t = 0)]
    inventory_delay_ms: u64,
}

impl SandboxArgs {
    /// The sandbox configuration these options ask for.
    pub fn config(&self) -> orderdeck_sandbox::SandboxConfig {
        use orderdeck_sandbox::config::{OverLimit, UnknownStore};
        orderdeck_sandbox::SandboxConfig {
            stores: self.stores,
            seed: self.seed,
            orders: self.orders,
            products: self.products,
            colours: self.colours,
            shared_catalogue: self.shared_catalogue,
            order_days: self.order_days,
            quota: self.quota,
            window: std::time::Duration::from_millis(self.window_ms),
            unknown_store: if self.unknown_store_404 {
                UnknownStore::NotFound
            } else {
                UnknownStore::Forbidden
            },
            over_limit: if self.refuse_over_limit {
                OverLimit::Refuse
            } else {
                OverLimit::Clamp
            },
            inventory_delay: std::time::Duration::from_millis(self.inventory_delay_ms),
            ..Default::default()
        }
    }
}

/// Runs `orderdeck sandbox`: the BigCommerce sandbox alone, until Ctrl-C.
pub async fn run_sandbox(args: &SandboxArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (sandbox, server) = orderdeck_sandbox::Sandbox::bind(args.config(), &args.bind)?;
    println!("BigCommerce sandbox listening on {}", sandbox.url);
    println!(
        "  API base (ORDERDECK_BIGCOMMERCE_API_URL): {}",
        sandbox.url
    );
    println!("  controls: {}/_sandbox/stores", sandbox.url);
    println!("  seeded in {:.2?}", started.elapsed());
    for s in sandbox.stores() {
        println!(
            "  store {}  hash={}  client_id={}  token={}  read_only_token={}",
            s.name, s.hash, s.client_id, s.access_token, s.read_only_token
        );
    }
    let stop = server.handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.stop(true).await;
    });
    server.await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use orderdeck::domain::password::check;

    #[test]
    fn the_demo_and_bench_passwords_meet_the_rules() {
        assert_eq!(
            check(super::DEMO_PASSWORD, &[super::DEMO_EMAIL, "Demo Company"]),
            Ok(())
        );
        assert_eq!(
            check(
                super::DEMO_STAFF_PASSWORD,
                &[super::DEMO_STAFF_EMAIL, "Demo Company"]
            ),
            Ok(())
        );
        assert_eq!(
            check(
                crate::bench::seed::SEED_PASSWORD,
                &[crate::bench::seed::SEED_EMAIL, "Bench Read"]
            ),
            Ok(())
        );
        // The password of the throwaway accounts of `bench import`, `push` and `webhook`.
        assert_eq!(
            check(
                "bench-password-1",
                &["bench-push-4242@orderdeck.local", "Bench"]
            ),
            Ok(())
        );
    }
}
