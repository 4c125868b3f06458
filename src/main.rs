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
    /// Run the server: GraphQL API, GraphiQL, downloads (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", orderdeck::graphql::sdl());
        return Ok(());
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
        Command::Schema => {}
    }
    Ok(())
}
