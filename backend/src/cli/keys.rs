//! `latchkey keys …`: the access-token signing keys.

use std::process::ExitCode;

use chrono::Utc;
use clap::Subcommand;

use super::confirm;
use crate::{
    auth::{
        AuthError,
        keys::{self, KeyPolicy, KeyState},
        secrets::Secrets,
    },
    config::Config,
    startup::connect_and_migrate,
    telemetry::Chain,
};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Every key with its state: next, current, retired (until when), revoked.
    List,
    /// Publish a new key now; it starts signing once every JWKS cache has seen it
    /// (JWKS_MAX_AGE + 60 s), and the current key is retired then.
    Rotate,
    /// Retire a key at once (a compromise): it leaves the JWKS and every token it signed stops
    /// working. If it was signing, the next key takes over now.
    Retire {
        #[arg(allow_hyphen_values = true)]
        kid: String,
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(config: Config, command: KeysCommand) -> ExitCode {
    let db = match connect_and_migrate(&config.database_url, &config.database).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let secrets = match Secrets::derive(&config.auth.jwt_secret) {
        Ok(secrets) => secrets,
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let policy = KeyPolicy::from_settings(&config.auth);
    let now = Utc::now();
    let result = match command {
        KeysCommand::List => keys::list(&db, &policy, now).await.map(|keys| {
            println!("{:<24}  {:<6}  {:<25}  STATE", "KID", "ALG", "SIGNS FROM");
            for (key, state) in keys {
                println!(
                    "{:<24}  {:<6}  {:<25}  {}",
                    key.kid,
                    key.algorithm,
                    key.activates_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    describe(state)
                );
            }
            ExitCode::SUCCESS
        }),
        KeysCommand::Rotate => keys::rotate(&db, &secrets, &policy, now).await.map(|made| {
            match made {
                Some((kid, activates_at)) => println!(
                    "published {kid}; it signs from {} (running instances publish it within seconds)",
                    activates_at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => println!("a next key is already waiting; nothing to do"),
            }
            ExitCode::SUCCESS
        }),
        KeysCommand::Retire { kid, yes } => {
            let question = format!(
                "Retire {kid} now? Every access token it signed stops working (their users \
                 refresh and continue), and it leaves the JWKS."
            );
            if !confirm(&question, yes) {
                let _ = db.close().await;
                return ExitCode::FAILURE;
            }
            keys::retire(&db, &secrets, &policy, &kid, now)
                .await
                .map(|signer| {
                    println!(
                        "retired {kid}; {signer} signs now (running instances follow within seconds)"
                    );
                    ExitCode::SUCCESS
                })
        }
    };
    let _ = db.close().await;
    match result {
        Ok(code) => code,
        Err(AuthError::NotFound) => {
            eprintln!("latchkey: no such key (or it is already retired)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn describe(state: KeyState) -> String {
    match state {
        KeyState::Next => "next (published, not signing yet)".to_owned(),
        KeyState::Current => "current (signing)".to_owned(),
        KeyState::Retired {
            verifies_until,
            published_until,
            ..
        } => format!(
            "retired (tokens verify until {}, published until {})",
            verifies_until.format("%Y-%m-%d %H:%M:%S"),
            published_until.format("%Y-%m-%d %H:%M:%S")
        ),
        KeyState::Expired => "expired".to_owned(),
        KeyState::Revoked => "revoked".to_owned(),
    }
}
