//! The `orderdeck` binary: parse the command line and run it (see `src/cli.rs`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    orderdeck::cli::run(orderdeck::cli::Cli::parse()).await
}
