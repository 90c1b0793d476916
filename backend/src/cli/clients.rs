//! `latchkey clients …`: the applications that may offer "Sign in with Latchkey".

use std::process::ExitCode;

use chrono::Utc;
use clap::{Subcommand, ValueEnum};

use super::confirm;
use crate::{
    auth::{
        AuthError,
        keys::JwtAlgorithm,
        oidc::clients::{self, Client, NewClient, Registered},
    },
    config::Config,
    startup::connect_and_migrate,
    telemetry::Chain,
};

#[derive(Clone, Copy, ValueEnum)]
pub enum IdTokenAlg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Subcommand)]
pub enum ClientsCommand {
    /// Register an application; prints its client_id and, once, its client_secret.
    Create {
        /// The name people see on the consent page and in their connected apps.
        #[arg(long)]
        name: String,
        /// Where the application receives codes (exact match; repeat for several).
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// Where it may send people after signing out (repeat for several).
        #[arg(long = "post-logout-redirect-uri", num_args = 1..)]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (a native or browser app) has no secret and authenticates with PKCE only.
        #[arg(long)]
        public: bool,
        /// How its ID tokens are signed. ES256 and EdDSA need JWT_ALGORITHM to be the same
        /// (their key is the access-token key); otherwise RS256 is used.
        #[arg(long, value_enum, default_value = "RS256")]
        id_token_alg: IdTokenAlg,
        /// Print JSON: {"client_id","client_secret"}.
        #[arg(long)]
        json: bool,
    },
    /// Every registered application.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One application's registration.
    Show {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an application: everyone's grants to it end at once.
    Delete {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        yes: bool,
    },
    /// Give a confidential application a new secret; the old one stops working at once.
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, command: ClientsCommand) -> ExitCode {
    let db = match connect_and_migrate(&config.database_url, &config.database).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            return ExitCode::FAILURE;
        }
    };
    if config.public_url.is_none() {
        eprintln!(
            "latchkey: note: PUBLIC_URL is not set, so the server does not act as an OpenID provider yet"
        );
    }
    let now = Utc::now();
    let result = match command {
        ClientsCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            id_token_alg,
            json,
        } => {
            let new = NewClient {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                id_token_alg: match id_token_alg {
                    IdTokenAlg::Rs256 => JwtAlgorithm::Rs256,
                    IdTokenAlg::Es256 => JwtAlgorithm::Es256,
                    IdTokenAlg::EdDsa => JwtAlgorithm::EdDsa,
                },
            };
            clients::create(&db, new, now)
                .await
                .map(|registered| print_registered(&registered, json))
        }
        ClientsCommand::List { json } => clients::list(&db).await.map(|list| {
            if json {
                let all: Vec<_> = list.iter().map(describe).collect();
                println!("{}", serde_json::Value::from(all));
            } else {
                println!("{:<24}  {:<12}  NAME", "CLIENT_ID", "TYPE");
                for client in &list {
                    println!(
                        "{:<24}  {:<12}  {}",
                        client.client_id,
                        if client.confidential {
                            "confidential"
                        } else {
                            "public"
                        },
                        client.name
                    );
                }
            }
            ExitCode::SUCCESS
        }),
        ClientsCommand::Show { client_id, json } => match clients::find(&db, &client_id).await {
            Ok(Some(client)) => {
                let described = describe(&client);
                if json {
                    println!("{described}");
                } else {
                    println!("client_id: {}", client.client_id);
                    println!("name: {}", client.name);
                    println!(
                        "type: {}",
                        if client.confidential {
                            "confidential"
                        } else {
                            "public"
                        }
                    );
                    for uri in &client.redirect_uris {
                        println!("redirect_uri: {uri}");
                    }
                    for uri in &client.post_logout_redirect_uris {
                        println!("post_logout_redirect_uri: {uri}");
                    }
                    println!("id_token_alg: {}", client.id_token_alg.as_str());
                    println!("created_at: {}", client.created_at.to_rfc3339());
                }
                Ok(ExitCode::SUCCESS)
            }
            Ok(None) => Err(AuthError::NotFound),
            Err(e) => Err(e),
        },
        ClientsCommand::Delete { client_id, yes } => {
            let question = format!(
                "Delete {client_id}? Everyone signed in to it through Latchkey loses its grant now."
            );
            if !confirm(&question, yes) {
                let _ = db.close().await;
                return ExitCode::FAILURE;
            }
            clients::delete(&db, &client_id, now).await.map(|()| {
                println!("deleted {client_id}");
                ExitCode::SUCCESS
            })
        }
        ClientsCommand::RotateSecret { client_id, json } => clients::rotate_secret(&db, &client_id)
            .await
            .map(|registered| print_registered(&registered, json)),
    };
    let _ = db.close().await;
    match result {
        Ok(code) => code,
        Err(AuthError::NotFound) => {
            eprintln!("latchkey: no such client");
            ExitCode::FAILURE
        }
        Err(AuthError::Validation(errors)) => {
            for error in errors {
                eprintln!("latchkey: {}: {}", error.field, error.message);
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn describe(client: &Client) -> serde_json::Value {
    serde_json::json!({
        "client_id": client.client_id,
        "name": client.name,
        "public": !client.confidential,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "id_token_alg": client.id_token_alg.as_str(),
        "created_at": client.created_at.to_rfc3339(),
    })
}

fn print_registered(registered: &Registered, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "client_id": registered.client.client_id,
                "client_secret": registered.client_secret,
            })
        );
    } else {
        println!("client_id: {}", registered.client.client_id);
        match &registered.client_secret {
            Some(secret) => {
                println!("client_secret: {secret}");
                println!("(shown once: store it now; only its hash is kept)");
            }
            None => println!("public client: no secret (PKCE only)"),
        }
    }
    ExitCode::SUCCESS
}
