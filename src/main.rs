//! The `orderdeck` binary: parse the command line, load settings, run.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use orderdeck::config::Settings;
use orderdeck::startup::Application;

/// Self-hosted multichannel order and inventory manager.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML); default: ./orderdeck.toml when present.
    #[arg(long, env = "ORDERDECK_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Try orderdeck: the server plus the built-in BigCommerce sandbox, with a demo account
    /// and a connected sandbox store.
    #[cfg(feature = "sandbox")]
    Demo {
        /// Where the sandbox listens.
        #[arg(long, default_value = "127.0.0.1:8090")]
        sandbox_bind: String,
    },
    /// Run the server: GraphQL API, GraphiQL, downloads (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Give a user a new random password, revoke all of the user's sessions, and print the
    /// password once (for a user locked out; they change it with `changePassword`).
    ResetPassword {
        /// The user's login email.
        email: String,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Run the BigCommerce sandbox alone (for tests, benchmarks, frontend work).
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Print measured figures.
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[cfg(feature = "sandbox")]
#[derive(Subcommand)]
enum BenchCommand {
    /// Import orders and products from a seeded sandbox store into a fresh database
    /// (SQLite, or DATABASE_URL) and print API calls, time, orders/s and peak memory.
    Import {
        /// Orders in the store.
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        /// Products in the store (30% of them with variants: 2–4 sizes × `colours`).
        #[arg(long, default_value_t = 2_000)]
        products: usize,
        /// Colours of the products with variants (2: about 2.5 variants per product).
        #[arg(long, default_value_t = 2)]
        colours: usize,
    },
    /// Push stock changes to two sandbox stores listing the same SKUs and print the latency
    /// from a committed change to the store holding it, and the calls a burst takes.
    Push {
        /// SKUs listed on both stores.
        #[arg(long, default_value_t = 5_000)]
        skus: usize,
        /// Changes of the burst, spread over every SKU and committed together.
        #[arg(long, default_value_t = 10_000)]
        changes: usize,
        /// Single changes timed one at a time.
        #[arg(long, default_value_t = 300)]
        samples: usize,
    },
    /// Fill an empty database (DATABASE_URL, or ./data/bench-read/orderdeck.db) with one
    /// merchant of years of history, for `bench read`.
    Seed {
        /// Orders (1–5 lines each, 3 on average).
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Products, each listed on one or two stores.
        #[arg(long, default_value_t = 50_000)]
        products: usize,
        /// Stores.
        #[arg(long, default_value_t = 10)]
        stores: usize,
    },
    /// Read latencies through GraphQL on the database `bench seed` filled, then requests per
    /// second under concurrent clients, with and without an order import running.
    Read {
        /// Requests per case.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds of each load run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Place orders on a sandbox store one at a time with webhooks on and print how long
    /// each takes to be in orderdeck (median, p90, p99).
    Webhook {
        /// Orders placed and timed.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// One account loops its heaviest allowed request from several clients; print how long
    /// another account's `me` takes meanwhile.
    Fairness {
        /// Orders imported into the looping account first.
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        /// Clients looping at once.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Seconds of the load run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// ORDERDECK_ACCOUNT_CONCURRENCY for this run (default: the server's default).
        #[arg(long)]
        account_concurrency: Option<u32>,
    },
    /// Start the server on an empty database, leave it idle and print its memory.
    Idle {
        /// Seconds to stay idle before measuring.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Render invoices and labels and print time and size per document.
    Pdf {
        /// Renders timed per kind.
        #[arg(long, default_value_t = 500)]
        samples: usize,
        /// Orders in the batch rendered as one PDF.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

/// Options of `orderdeck sandbox`.
#[cfg(feature = "sandbox")]
#[derive(clap::Args)]
struct SandboxArgs {
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

#[cfg(feature = "sandbox")]
impl SandboxArgs {
    fn config(&self) -> orderdeck_sandbox::SandboxConfig {
        use orderdeck_sandbox::config::{OverLimit, UnknownStore};
        orderdeck_sandbox::SandboxConfig {
            stores: self.stores,
            seed: self.seed,
            orders: self.orders,
            products: self.products,
            colours: self.colours,
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

#[cfg(feature = "sandbox")]
async fn run_sandbox(args: &SandboxArgs) -> anyhow::Result<()> {
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

/// `orderdeck bench …`.
#[cfg(feature = "sandbox")]
async fn run_bench(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Import {
            orders,
            products,
            colours,
        } => {
            orderdeck::bench::import(
                std::env::var("DATABASE_URL").ok(),
                *orders,
                *products,
                *colours,
            )
            .await
        }
        BenchCommand::Push {
            skus,
            changes,
            samples,
        } => {
            orderdeck::bench::push::push(
                std::env::var("DATABASE_URL").ok(),
                *skus,
                *changes,
                *samples,
            )
            .await
        }
        BenchCommand::Seed {
            orders,
            products,
            stores,
        } => {
            orderdeck::bench::seed::seed(
                std::env::var("DATABASE_URL").ok(),
                orderdeck::bench::seed::SeedSize {
                    orders: *orders,
                    products: (*products).max(1),
                    stores: (*stores).max(1),
                },
            )
            .await
        }
        BenchCommand::Read {
            samples,
            clients,
            seconds,
        } => {
            orderdeck::bench::read::read(
                std::env::var("DATABASE_URL").ok(),
                (*samples).max(1),
                (*clients).max(1),
                *seconds,
            )
            .await
        }
        BenchCommand::Webhook { samples } => {
            orderdeck::bench::webhook::webhook(std::env::var("DATABASE_URL").ok(), *samples).await
        }
        BenchCommand::Fairness {
            orders,
            clients,
            seconds,
            account_concurrency,
        } => {
            orderdeck::bench::fairness::fairness(
                std::env::var("DATABASE_URL").ok(),
                orderdeck::bench::fairness::FairnessOptions {
                    orders: *orders,
                    clients: (*clients).max(1),
                    seconds: (*seconds).max(1),
                    account_concurrency: *account_concurrency,
                },
            )
            .await
        }
        BenchCommand::Idle { seconds } => {
            orderdeck::bench::idle::idle(std::env::var("DATABASE_URL").ok(), *seconds).await
        }
        BenchCommand::Pdf { samples, batch } => orderdeck::bench::pdf::pdf(*samples, *batch),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Schema => {
            print!("{}", orderdeck::graphql::sdl());
            return Ok(());
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => {
            orderdeck::telemetry::init(orderdeck::config::LogFormat::Text);
            return run_sandbox(args).await;
        }
        #[cfg(feature = "sandbox")]
        Command::Bench(command) => return run_bench(command).await,
        _ => {}
    }
    let settings = Settings::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
    orderdeck::telemetry::init(settings.log_format);
    tracing::info!(settings = ?settings, "starting");
    match cli.command {
        Command::Migrate => {
            let db = orderdeck::db::connect(&settings).await?;
            orderdeck::db::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::ResetPassword { email } => {
            let db = orderdeck::db::connect(&settings).await?;
            let Some(reset) = orderdeck::services::accounts::reset_password(&db, &email).await?
            else {
                // One plain line for the operator, whatever RUST_BACKTRACE says.
                eprintln!("error: no user has the email {email}");
                std::process::exit(1);
            };
            println!("One-time password: {}", reset.password.expose());
            println!(
                "Give it to the user: they log in with it, then set their own password with the \
                 `changePassword` mutation. {} session(s) were revoked.",
                reset.revoked_sessions
            );
        }
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(
                port = app.port(),
                "listening; GraphiQL at http://{}:{}/graphiql",
                app.state().settings.bind_addr()?.ip(),
                app.port()
            );
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        #[cfg(feature = "sandbox")]
        Command::Demo { sandbox_bind } => {
            orderdeck::demo::run(settings, &sandbox_bind).await?;
        }
        Command::Schema => {}
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) | Command::Bench(_) => {}
    }
    Ok(())
}
