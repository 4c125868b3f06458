//! The command line: what each `orderdeck` command does, from parsed arguments to exit.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use orderdeck::config::Settings;
use orderdeck::startup::Application;

/// Self-hosted multichannel order and inventory manager.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file (TOML); default: ./orderdeck.toml when present.
    #[arg(long, env = "ORDERDECK_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
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
    /// Write a consistent copy of the SQLite database to FILE while the server may run, and
    /// check it (integrity, migration level, secret key).
    Backup {
        /// The copy to write (a new file).
        file: PathBuf,
    },
    /// Put a backup back into an empty data directory, after checking it fits this version
    /// and this secret key.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Run the BigCommerce sandbox alone (for tests, benchmarks, frontend work).
    #[cfg(feature = "sandbox")]
    Sandbox(crate::demo::SandboxArgs),
    /// Print measured figures.
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

/// Runs the command `cli` asks for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Schema => {
            print!("{}", orderdeck::graphql::sdl());
            return Ok(());
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => {
            orderdeck::telemetry::init(orderdeck::config::LogFormat::Text);
            return crate::demo::run_sandbox(args).await;
        }
        #[cfg(feature = "sandbox")]
        Command::Bench(command) => return crate::bench::run(command).await,
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
        Command::Backup { file } => {
            let checked = orderdeck::backup::backup(&settings, &file).await?;
            println!(
                "Backup written: {} ({} bytes, migration {}, secret key fingerprint {}). Keep \
                 the secret key with it: without it the stores must be connected again.",
                file.display(),
                checked.bytes,
                checked.migration,
                checked.key_fingerprint
            );
        }
        Command::Restore { file } => {
            let checked = orderdeck::backup::restore(&settings, &file).await?;
            println!(
                "Restored {} (migration {}); start the server: newer migrations apply at start.",
                file.display(),
                checked.migration
            );
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
            crate::demo::run(settings, &sandbox_bind).await?;
        }
        Command::Schema => {}
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) | Command::Bench(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// clap's own checks of the declared commands and arguments (names, defaults, conflicts).
    #[test]
    fn the_command_line_is_declared_consistently() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
