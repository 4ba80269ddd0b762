//! The `flowforge` binary: wires the engine, catalog, pgwire proxy and HTTP server together.
//!
//! Business logic lives in the crates; this package only parses the command line, loads
//! configuration and calls them.

mod commands;
mod demo;
mod sessions;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// FlowForge: an embedded BI engine for trading desks. SQL clients connect over the PostgreSQL
/// wire protocol and query no-code workflows as views.
#[derive(Debug, Parser)]
#[command(name = "flowforge", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate the deterministic sample market data (Parquet) into the data folder.
    Seed(commands::seed::SeedArgs),
    /// Print the SQL a workflow compiles to, or its validation errors.
    Compile(commands::compile::CompileArgs),
    /// Validate a workflow and print every node's output schema as JSON.
    Check(commands::compile::CheckArgs),
    /// Run a workflow node on the embedded engine and print the rows.
    Run(commands::run::RunArgs),
    /// Serve SQL clients (pgwire) and the web app (HTTP); with no flags, the embedded demo.
    Serve(Box<commands::serve::ServeArgs>),
    /// Create, list and revoke API keys (pgwire login: public id + secret).
    ApiKey(commands::api_key::ApiKeyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Seed(args) => commands::seed::run(args),
        Command::Compile(args) => commands::compile::compile(args),
        Command::Check(args) => commands::compile::check(args),
        Command::Run(args) => commands::run::run(args),
        Command::Serve(args) => commands::serve::run(*args),
        Command::ApiKey(args) => commands::api_key::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLOWFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
