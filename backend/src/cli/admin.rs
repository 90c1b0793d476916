//! `latchkey admin users …` and `latchkey admin roles …`: managing accounts and roles from a
//! terminal. Every change is recorded in the audit log with the actor `cli`, and in the
//! account's own activity, exactly as the admin API records it.

use std::{io::IsTerminal as _, process::ExitCode};

use chrono::Utc;
use clap::Subcommand;
use sea_orm::DatabaseConnection;

use super::confirm;
use crate::{
    auth::{
        AuthError, accounts,
        audit::Actor,
        notices::{MailPolicy, Post},
        password_hash::Hasher,
        recovery,
        roles::{self, RoleName},
        secrets::Secrets,
        sessions,
    },
    config::Config,
    domain::describe_device,
    startup::connect_and_migrate,
    telemetry::Chain,
};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Roles (`admin` is built in).
    Roles {
        #[command(subcommand)]
        command: RolesCommand,
    },
}

#[derive(Subcommand)]
pub enum RolesCommand {
    /// Make a role: 1–32 characters of a–z, 0–9, _, - and ., starting with a letter.
    Create {
        name: String,
        /// What holding it means, for other administrators.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Every role, with how many people hold it.
    List,
    /// Delete a role, and every grant of it (`admin` cannot be deleted).
    Delete {
        name: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// List accounts by name.
    List {
        /// Only names containing this text (any letter case).
        #[arg(long)]
        filter: Option<String>,
        /// Which page, from 1.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        page: u64,
        /// Accounts per page.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        per_page: u64,
    },
    /// Show one account: status, sessions, second factors and trusted devices.
    Show { name: String },
    /// End every session of the account.
    RevokeSessions {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// Forget the failed sign-ins counted against the account's name.
    Unlock { name: String },
    /// Stop the account from signing in; its sessions end at once.
    Disable {
        name: String,
        /// Why: kept in the audit log, and shown to the account's owner in their activity.
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        yes: bool,
    },
    /// Let a disabled account sign in again.
    Enable {
        name: String,
        /// Why: kept in the audit log, and shown to the account's owner in their activity.
        #[arg(long)]
        reason: Option<String>,
        /// Accepted like disable's, so scripts can pass it to both; enabling asks nothing.
        #[arg(long, hide = true)]
        yes: bool,
    },
    /// Set a new password (asked for twice; checked against the password policy). Every
    /// session, pending sign-in and trusted device ends.
    SetPassword {
        name: String,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        yes: bool,
    },
    /// Remove every second factor (authenticator app, recovery codes, passkeys) and the
    /// recovery key; pending sign-ins and trusted devices end. Sessions stay (see
    /// revoke-sessions).
    ResetFactors {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// Print a password reset link to hand to the account's owner (single use; it ends with
    /// any later change of the password, and does not sign anyone in).
    ResetLink {
        name: String,
        /// How long it works: a number of minutes (`90m`) or hours (`2h`); at most 24h.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: std::time::Duration,
    },
    /// Grant the account a role (e.g. `admin`, to make the first administrator).
    Grant { name: String, role: String },
    /// Revoke a role of the account; the admin API refuses a revoked `admin` at once.
    Revoke { name: String, role: String },
    /// Delete the account and everything that belongs to it.
    Delete {
        name: String,
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(config: Config, command: AdminCommand) -> ExitCode {
    let db = match connect_and_migrate(&config.database_url, &config.database).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        AdminCommand::Users { command } => users(&db, &config, command).await,
        AdminCommand::Roles { command } => roles_command(&db, command).await,
    };
    let _ = db.close().await;
    match result {
        Ok(code) => code,
        Err(AuthError::NotFound) => {
            eprintln!("latchkey: no such user (or role)");
            ExitCode::FAILURE
        }
        Err(AuthError::RoleExists) => {
            eprintln!("latchkey: a role of that name exists already");
            ExitCode::FAILURE
        }
        Err(AuthError::RoleBuiltIn) => {
            eprintln!("latchkey: this role is built in and cannot be deleted");
            ExitCode::FAILURE
        }
        Err(AuthError::LastAdmin) => {
            eprintln!(
                "latchkey: refused: this is the last enabled administrator, and no one could use the admin API without one; grant admin to another account first (latchkey admin users grant NAME admin)"
            );
            ExitCode::FAILURE
        }
        Err(AuthError::Validation(fields)) => {
            for field in fields {
                eprintln!("latchkey: {}", field.message);
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latchkey: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn users(
    db: &DatabaseConnection,
    config: &Config,
    command: UsersCommand,
) -> Result<ExitCode, AuthError> {
    let now = Utc::now();
    let actor = Actor::cli();
    match command {
        UsersCommand::List {
            filter,
            page,
            per_page,
        } => {
            let accounts = accounts::list(db, filter.as_deref(), page, per_page, now).await?;
            println!(
                "{:<32}  {:<20}  {:<8}  {:>8}",
                "USERNAME", "CREATED", "STATUS", "SESSIONS"
            );
            for account in &accounts {
                println!(
                    "{:<32}  {:<20}  {:<8}  {:>8}",
                    account.user.username,
                    account.user.created_at.format("%Y-%m-%d %H:%M:%S"),
                    status(&account.user),
                    account.active_sessions
                );
            }
            if accounts.is_empty() {
                println!("(no accounts on page {page})");
            }
        }
        UsersCommand::Show { name } => {
            let account = accounts::find(db, &name).await?;
            println!("username:   {}", account.username);
            println!("id:         {}", account.id);
            println!("created:    {}", account.created_at.to_rfc3339());
            println!("status:     {}", status(&account));
            println!(
                "email:      {}",
                match (&account.email, account.email_verified_at) {
                    (Some(email), Some(_)) => format!("{email} (verified)"),
                    (Some(email), None) => format!("{email} (not verified)"),
                    (None, _) => "none".to_owned(),
                }
            );
            println!(
                "recovery key: {}",
                account
                    .recovery_key_created_at
                    .map_or("none".to_owned(), |at| format!(
                        "made {} (ends with the next password change, reset or factor reset)",
                        at.format("%Y-%m-%d %H:%M")
                    ))
            );
            let live = sessions::active(db, account.id, now).await?;
            println!("sessions:   {}", live.len());
            for session in live {
                println!(
                    "  {}  last used {}  {}  {}",
                    session.id,
                    session.last_used_at.format("%Y-%m-%d %H:%M"),
                    session.ip.as_deref().unwrap_or("-"),
                    describe_device(session.user_agent.as_deref())
                );
            }
            let factors = accounts::factors(db, &account, now).await?;
            println!(
                "authenticator app: {}",
                if factors.totp_enabled { "on" } else { "off" }
            );
            println!(
                "recovery codes:    {} left",
                factors.recovery_codes_remaining
            );
            println!("passkeys:   {}", factors.passkeys.len());
            for passkey in &factors.passkeys {
                println!(
                    "  {}  {}  added {}  last used {}",
                    passkey.id,
                    passkey.name,
                    passkey.created_at.format("%Y-%m-%d %H:%M"),
                    passkey.last_used_at.map_or("never".to_owned(), |at| at
                        .format("%Y-%m-%d %H:%M")
                        .to_string())
                );
            }
            println!("trusted devices: {}", factors.trusted_devices.len());
            for device in &factors.trusted_devices {
                println!(
                    "  {}  last sign-in {}  {}  {}",
                    device.id,
                    device.last_used_at.format("%Y-%m-%d %H:%M"),
                    device.ip.as_deref().unwrap_or("-"),
                    describe_device(device.user_agent.as_deref())
                );
            }
        }
        UsersCommand::RevokeSessions { name, yes } => {
            let account = accounts::find(db, &name).await?;
            if !confirm(&format!("End every session of {}?", account.username), yes) {
                return Ok(ExitCode::FAILURE);
            }
            let ended = accounts::revoke_sessions(db, &actor, &account, now).await?;
            println!("ended {ended} session(s) of {}", account.username);
        }
        UsersCommand::Unlock { name } => {
            let account = accounts::find(db, &name).await?;
            accounts::unlock(db, &actor, &account, now).await?;
            println!("cleared the sign-in throttle of {}", account.username);
        }
        UsersCommand::Disable { name, reason, yes } => {
            let account = accounts::find(db, &name).await?;
            let question = format!(
                "Disable {}? They cannot sign in and every session ends now.",
                account.username
            );
            if !confirm(&question, yes) {
                return Ok(ExitCode::FAILURE);
            }
            let actor = actor.clone().with_reason(reason.as_deref());
            let ended = accounts::set_disabled(db, &actor, &account, true, now).await?;
            println!("disabled {} (ended {ended} session(s))", account.username);
        }
        UsersCommand::Enable {
            name,
            reason,
            yes: _,
        } => {
            let account = accounts::find(db, &name).await?;
            let actor = actor.clone().with_reason(reason.as_deref());
            accounts::set_disabled(db, &actor, &account, false, now).await?;
            println!("enabled {}", account.username);
        }
        UsersCommand::SetPassword {
            name,
            password_stdin,
            yes,
        } => {
            let account = accounts::find(db, &name).await?;
            let question = format!(
                "Set a new password for {}? Every session, pending sign-in and trusted device ends.",
                account.username
            );
            // With --password-stdin piped in there is no terminal to ask on: --yes answers.
            if !confirm(&question, yes) {
                return Ok(ExitCode::FAILURE);
            }
            let Some(password) = read_new_password(password_stdin) else {
                return Ok(ExitCode::FAILURE);
            };
            let hasher = Hasher::new(config.auth.argon2, 1, 1)?;
            let policy = config.auth.passwords;
            let (mail, secrets) = post_office(config)?;
            let post = Post {
                policy: mail.as_ref(),
                secrets: &secrets,
            };
            let ended = accounts::reset_password(
                db, post, &hasher, policy, &actor, &account, password, now,
            )
            .await?;
            println!(
                "set a new password for {} (ended {ended} session(s))",
                account.username
            );
        }
        UsersCommand::ResetFactors { name, yes } => {
            let account = accounts::find(db, &name).await?;
            let question = format!(
                "Remove every second factor of {} (authenticator app, recovery codes, passkeys) and its recovery key?",
                account.username
            );
            if !confirm(&question, yes) {
                return Ok(ExitCode::FAILURE);
            }
            let (mail, secrets) = post_office(config)?;
            let post = Post {
                policy: mail.as_ref(),
                secrets: &secrets,
            };
            let removed = accounts::reset_factors(db, post, &actor, &account, now).await?;
            println!(
                "reset the second factors of {}: authenticator app {}, {} unused recovery code(s), {} passkey(s) removed; recovery key {}",
                account.username,
                if removed.totp { "removed" } else { "was off" },
                removed.recovery_codes,
                removed.passkeys,
                if account.recovery_key_created_at.is_some() {
                    "removed"
                } else {
                    "none"
                }
            );
        }
        UsersCommand::ResetLink { name, ttl } => {
            let account = accounts::find(db, &name).await?;
            let link =
                recovery::issue_reset_link(db, &actor, &config.auth.app_url, &account, ttl, now)
                    .await?;
            println!("{link}");
            eprintln!(
                "A password reset link for {}, valid for {} minutes, once. Hand it to its owner over a channel you trust.",
                account.username,
                ttl.as_secs() / 60
            );
        }
        UsersCommand::Delete { name, yes } => {
            let account = accounts::find(db, &name).await?;
            let question = format!(
                "Delete {} and everything that belongs to it? This cannot be undone.",
                account.username
            );
            if !confirm(&question, yes) {
                return Ok(ExitCode::FAILURE);
            }
            accounts::delete(db, &actor, &account, now).await?;
            println!("deleted {}", account.username);
        }
        UsersCommand::Grant { name, role } => {
            let account = accounts::find(db, &name).await?;
            if roles::grant(db, &actor, &account, &role, now).await? {
                println!("granted {role} to {}", account.username);
            } else {
                println!("{} already holds {role}", account.username);
            }
        }
        UsersCommand::Revoke { name, role } => {
            let account = accounts::find(db, &name).await?;
            if roles::revoke(db, &actor, &account, &role, now).await? {
                println!("revoked {role} from {}", account.username);
            } else {
                println!("{} does not hold {role}", account.username);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn roles_command(
    db: &DatabaseConnection,
    command: RolesCommand,
) -> Result<ExitCode, AuthError> {
    let now = Utc::now();
    let actor = Actor::cli();
    match command {
        RolesCommand::Create { name, description } => {
            let name = RoleName::parse(&name).map_err(|e| AuthError::Validation(vec![e]))?;
            let role = roles::create(db, &actor, &name, &description, now).await?;
            println!("created role {}", role.name);
        }
        RolesCommand::List => {
            println!(
                "{:<32}  {:>7}  {:<8}  DESCRIPTION",
                "ROLE", "HOLDERS", "KIND"
            );
            for summary in roles::list(db).await? {
                println!(
                    "{:<32}  {:>7}  {:<8}  {}",
                    summary.role.name,
                    summary.holders,
                    if summary.role.built_in {
                        "built-in"
                    } else {
                        "custom"
                    },
                    summary.role.description
                );
            }
        }
        RolesCommand::Delete { name, yes } => {
            let question = format!("Delete the role {name}? Everyone who holds it loses it.");
            if !confirm(&question, yes) {
                return Ok(ExitCode::FAILURE);
            }
            let holders = roles::delete(db, &actor, &name, now).await?;
            println!("deleted role {name} ({holders} holder(s) lost it)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the commands that tell an account's owner need: where links point (with mail on) and
/// the key that seals the outbox.
fn post_office(config: &Config) -> Result<(Option<MailPolicy>, Secrets), AuthError> {
    let secrets = Secrets::derive(&config.auth.jwt_secret)?;
    Ok((config.auth.mail.clone(), secrets))
}

/// `90m`, `2h` or a bare number of minutes; between a minute and a day.
fn parse_ttl(raw: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match raw.strip_suffix('h') {
        Some(hours) => (hours, 3600),
        None => (raw.strip_suffix('m').unwrap_or(raw), 60),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 30m or 2h"))?;
    let ttl = std::time::Duration::from_secs(value.saturating_mul(unit));
    if ttl < std::time::Duration::from_secs(60) || ttl > recovery::OPERATOR_LINK_MAX {
        return Err("must be between 1m and 24h".to_owned());
    }
    Ok(ttl)
}

fn status(user: &crate::entity::user::Model) -> &'static str {
    if user.disabled_at.is_some() {
        "disabled"
    } else {
        "active"
    }
}

/// The new password: from stdin's first line, or asked twice on the terminal without echo.
fn read_new_password(from_stdin: bool) -> Option<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        return Some(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("latchkey: no terminal to ask for the password on; use --password-stdin");
        return None;
    }
    let first = rpassword::prompt_password("New password: ").ok()?;
    let second = rpassword::prompt_password("Repeat it: ").ok()?;
    if first != second {
        eprintln!("latchkey: the two passwords differ; nothing was changed");
        return None;
    }
    Some(first)
}
