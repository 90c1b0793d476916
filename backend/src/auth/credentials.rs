//! Accounts: registration and password login.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _,
    SqlErr,
};
use uuid::Uuid;

use super::{
    AuthError, ClientInfo, Identity,
    password_hash::Verdict,
    sessions::{self, IssuedSession},
};
use crate::{
    domain::{FieldError, Password, Username},
    entity::user,
    state::AppState,
};

/// Parses registration input, reporting every invalid field at once.
pub fn parse_registration(
    username: String,
    password: String,
) -> Result<(Username, Password), AuthError> {
    match (Username::parse(username), Password::parse(password)) {
        (Ok(username), Ok(password)) => Ok((username, password)),
        (username, password) => {
            let errors: Vec<FieldError> = [username.err(), password.err()]
                .into_iter()
                .flatten()
                .collect();
            Err(AuthError::Validation(errors))
        }
    }
}

/// Creates an account. The unique index on the canonical name decides races between
/// concurrent registrations: exactly one insert wins, the others get `UsernameTaken`.
pub async fn register(
    state: &AppState,
    username: Username,
    password: Password,
    now: DateTime<Utc>,
) -> Result<Identity, AuthError> {
    // Cheap early answer for the common case; the index below is what guarantees it.
    if find_by_username(state, &username).await?.is_some() {
        return Err(AuthError::UsernameTaken);
    }
    let password_hash = state.hasher.hash(&password).await?;
    let account = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.as_str().to_owned()),
        username_canonical: Set(username.canonical().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match account.insert(&state.db).await {
        Ok(user) => {
            tracing::info!(event = "register", user_id = %user.id, "account created");
            Ok(Identity::from(&user))
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AuthError::UsernameTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks a username and password and starts a session. Unknown users and wrong passwords
/// take the same path, the same time and the same error.
pub async fn login(
    state: &AppState,
    username: String,
    password: Password,
    client: ClientInfo,
    now: DateTime<Utc>,
) -> Result<IssuedSession, AuthError> {
    // Refused before any hashing: a throttled name costs nothing.
    if let Err(retry_after) = state.throttle.check(&username, now) {
        tracing::warn!(
            event = "login_throttled",
            security = true,
            retry_after_s = retry_after.as_secs(),
            "login refused: too many failures"
        );
        return Err(AuthError::TooManyAttempts { retry_after });
    }
    let throttle_key = username.clone();
    // A name that breaks the rules cannot exist; treat it as unknown rather than as a 400,
    // so a login form cannot be used to probe the rules per field.
    let account = match Username::parse(username) {
        Ok(name) => find_by_username(state, &name).await?,
        Err(_) => None,
    };
    let verdict = state
        .hasher
        .verify(
            &password,
            account.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await?;
    let (account, needs_rehash) = match (account, verdict) {
        (Some(account), Verdict::Match { needs_rehash }) => (account, needs_rehash),
        (account, _) => {
            state.throttle.record_failure(&throttle_key, now);
            tracing::info!(event = "login_failed", user_id = ?account.map(|u| u.id), "login failed");
            return Err(AuthError::InvalidCredentials);
        }
    };
    state.throttle.record_success(&throttle_key);
    if needs_rehash {
        upgrade_hash(state, &account, &password, now).await;
    }
    let issued = sessions::start(state, &account, client, now).await?;
    tracing::info!(event = "login", user_id = %account.id, session_id = %issued.session_id, "login succeeded");
    Ok(issued)
}

async fn find_by_username(
    state: &AppState,
    username: &Username,
) -> Result<Option<user::Model>, AuthError> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameCanonical.eq(username.canonical()))
        .one(&state.db)
        .await?)
}

/// Re-hashes with the configured parameters after they were raised. Failure is logged and
/// does not fail the login: the old hash keeps working until the next attempt.
async fn upgrade_hash(
    state: &AppState,
    account: &user::Model,
    password: &Password,
    now: DateTime<Utc>,
) {
    let result = async {
        let hash = state.hasher.hash(password).await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::PasswordHash,
                sea_orm::sea_query::Expr::value(hash),
            )
            .col_expr(
                user::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(account.id))
            .exec(&state.db)
            .await?;
        Ok::<_, AuthError>(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::info!(event = "password_rehashed", user_id = %account.id, "password hash upgraded")
        }
        Err(e) => {
            tracing::warn!(event = "password_rehash_failed", user_id = %account.id, error = %e, "password hash upgrade failed")
        }
    }
}
