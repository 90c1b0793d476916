//! The `latchkey` command line: the server, and the commands an operator runs against the
//! configured database. Every command calls the same `auth::` functions as the API.

mod admin;
mod clients;
mod healthcheck;
mod keys;

use std::{io::IsTerminal as _, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    config::Config,
    startup::{Application, connect_and_migrate, shutdown_signal},
    telemetry::{self, Chain, LogFormat},
};

/// Latchkey: username/password authentication with JWT access tokens and rotating refresh tokens.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default). Applies pending migrations first.
    Serve,
    /// Print the OpenAPI document to stdout. Needs no database or configuration.
    Openapi,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Exit 0 if the server on this machine answers /health (for container health checks).
    Healthcheck {
        /// Where to ask; default http://127.0.0.1:$PORT/health (PORT defaults to 8000).
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Manage the access-token signing keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Manage the applications that offer "Sign in with Latchkey" (OpenID Connect clients).
    Clients {
        #[command(subcommand)]
        command: clients::ClientsCommand,
    },
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!("{}", crate::api::spec_json());
            ExitCode::SUCCESS
        }
        Command::Healthcheck { url } => healthcheck::run(url),
        Command::Serve => with_config(LogFormatFrom::Config, serve),
        Command::Migrate => with_config(LogFormatFrom::Config, migrate),
        Command::Admin { command } => {
            with_config(LogFormatFrom::Quiet, |config| admin::run(config, command))
        }
        Command::Keys { command } => {
            with_config(LogFormatFrom::Quiet, |config| keys::run(config, command))
        }
        Command::Clients { command } => {
            with_config(LogFormatFrom::Quiet, |config| clients::run(config, command))
        }
    }
}

/// Operator commands log only warnings unless `RUST_LOG` asks for more: their output is the
/// answer, on stdout.
enum LogFormatFrom {
    Config,
    Quiet,
}

fn with_config(logs: LogFormatFrom, command: impl AsyncFnOnce(Config) -> ExitCode) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("latchkey: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = match logs {
        LogFormatFrom::Config => telemetry::init(&config.log_filter, config.log_format),
        LogFormatFrom::Quiet => {
            let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned());
            telemetry::init(&filter, LogFormat::Pretty)
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(command(config))
}

async fn serve(config: Config) -> ExitCode {
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %Chain(&e), "startup failed");
            eprintln!("latchkey: startup failed: {}", Chain(&e));
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server error");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: Config) -> ExitCode {
    match connect_and_migrate(&config.database_url, &config.database).await {
        Ok(db) => {
            let _ = db.close().await;
            println!("migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// Asks before a destructive change. `--yes` skips the question; without a terminal to ask
/// on, the change is refused rather than assumed.
fn confirm(question: &str, yes: bool) -> bool {
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("latchkey: {question} Refusing without a terminal to ask on; add --yes.");
        return false;
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
