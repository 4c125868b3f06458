//! The `orderdeck` binary: parse the command line and run it. The commands are in `cli`; the
//! try-it and measuring tools (`demo`, `sandbox`, `bench`) live here in the binary, not in
//! the orderdeck library, and only with the `sandbox` feature.

use clap::Parser;

/// Benchmarks (`orderdeck bench`).
#[cfg(feature = "sandbox")]
mod bench;
/// The command line (`orderdeck serve`, `migrate`, …).
mod cli;
/// `orderdeck demo` and `orderdeck sandbox`: the server with the sandbox, or the sandbox alone.
#[cfg(feature = "sandbox")]
mod demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::run(cli::Cli::parse()).await
}
