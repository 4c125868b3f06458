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
async fn main() -> std::process::ExitCode {
    use orderdeck::config::{ConfigError, StartupError};
    let Err(e) = cli::run(cli::Cli::parse()).await else {
        return std::process::ExitCode::SUCCESS;
    };
    // What the operator fixes in the configuration or the machine: plain words, exit code 2,
    // no backtrace whatever RUST_BACKTRACE says.
    let plain = e.chain().find_map(|cause| {
        cause
            .downcast_ref::<StartupError>()
            .map(ToString::to_string)
            .or_else(|| cause.downcast_ref::<ConfigError>().map(ToString::to_string))
    });
    if let Some(message) = plain {
        eprintln!("orderdeck: {message}");
        return std::process::ExitCode::from(2);
    }
    eprintln!("Error: {e:?}");
    std::process::ExitCode::FAILURE
}
