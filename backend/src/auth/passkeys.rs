//! Passkeys (WebAuthn, with webauthn-rs): registering one on a signed-in account, signing in
//! with one, listing and removing them. Ceremony state stays on the server (`challenges`),
//! single use, five minutes. A passkey sign-in needs user verification, so it is two factors
//! in itself and skips the authenticator app.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::Mac as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, SqlErr, sea_query::Expr,
};
use uuid::Uuid;
use webauthn_rs::{
    Webauthn, WebauthnBuilder,
    prelude::{
        Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
        RegisterPublicKeyCredential, Url,
    },
};

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    challenges,
    credentials::{self, SignedIn},
    second_factor::{self, StepUpAnswer},
    sessions::{self, Authenticated},
    throttle::{self, Key},
};
use crate::{
    config::WebauthnSettings,
    domain::Username,
    entity::{passkey, user},
    storage,
};

/// The relying party, from `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGIN`.
pub fn relying_party(settings: &WebauthnSettings) -> Result<Webauthn, AuthError> {
    let origin = Url::parse(&settings.origin)
        .map_err(|e| AuthError::Internal(format!("WEBAUTHN_ORIGIN: {e}")))?;
    WebauthnBuilder::new(&settings.rp_id, &origin)
        .and_then(|builder| builder.rp_name("Latchkey").build())
        .map_err(|e| AuthError::Internal(format!("WebAuthn relying party: {e}")))
}

/// A ceremony for the client: the token naming it, and the options for the browser
/// (`navigator.credentials.create` / `.get`), as webauthn-rs writes them.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub token: String,
    pub options: serde_json::Value,
}

/// Starts registering a passkey for the caller, after a step-up (the password, and the
/// second factor when 2FA is on): a stolen session alone cannot plant a lasting credential.
pub async fn start_registration(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Ceremony, AuthError> {
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let existing = passkeys_of(&auth.db, caller.user.id).await?;
    let exclude = existing
        .iter()
        .filter_map(|row| credential_of(row).map(|key| key.cred_id().clone()))
        .collect::<Vec<_>>();
    let (options, state) = auth
        .webauthn
        .start_passkey_registration(
            caller.user.id,
            &caller.user.username,
            &caller.user.username,
            Some(exclude),
        )
        .map_err(|e| AuthError::Internal(format!("WebAuthn registration: {e}")))?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, caller.user.id, now).await?;
    let token = challenges::create(
        &txn,
        challenges::Kind::PasskeyRegistration,
        Some(caller.user.id),
        Some(to_json(&state)?),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Ceremony {
        token,
        options: serde_json::to_value(options)
            .map_err(|e| AuthError::Internal(format!("WebAuthn options: {e}")))?,
    })
}

/// Finishes a registration: verifies the authenticator's answer and stores the passkey.
pub async fn finish_registration(
    auth: &Auth,
    caller: &Authenticated,
    ceremony: &str,
    name: &str,
    credential: serde_json::Value,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<passkey::Model, AuthError> {
    let challenge = challenges::find(
        &auth.db,
        ceremony,
        challenges::Kind::PasskeyRegistration,
        now,
    )
    .await?
    .filter(|c| c.user_id == Some(caller.user.id))
    .ok_or(AuthError::InvalidPasskey)?;
    if !challenges::consume(&auth.db, &challenge).await? {
        return Err(AuthError::InvalidPasskey);
    }
    let state: PasskeyRegistration = from_json(challenge.state.as_deref())?;
    let response: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| AuthError::InvalidPasskey)?;
    let key = auth
        .webauthn
        .finish_passkey_registration(&response, &state)
        .map_err(|e| {
            tracing::info!(event = "passkey_registration_failed", user_id = %caller.user.id, error = %e, "passkey registration failed");
            AuthError::InvalidPasskey
        })?;
    let row = passkey::Model {
        id: Uuid::new_v4(),
        user_id: caller.user.id,
        name: name.to_owned(),
        credential_id: credential_id_text(key.cred_id()),
        credential: to_json(&key)?,
        created_at: now,
        last_used_at: None,
    };
    let txn = storage::begin_write(&auth.db).await?;
    let inserted = passkey::Entity::insert(passkey::ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        name: Set(row.name.clone()),
        credential_id: Set(row.credential_id.clone()),
        credential: Set(row.credential.clone()),
        created_at: Set(now),
        last_used_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AuthError::PasskeyAlreadyRegistered);
        }
        Err(e) => return Err(e.into()),
    }
    record(
        &txn,
        caller.user.id,
        Kind::PasskeyAdded,
        client,
        Some(caller.session_id),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "passkey_added", user_id = %caller.user.id, passkey_id = %row.id, "passkey registered");
    Ok(row)
}

/// The user's passkeys, newest first.
pub async fn passkeys_of(
    db: &DatabaseConnection,
    user_id: Uuid,
) -> Result<Vec<passkey::Model>, AuthError> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_desc(passkey::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Removes one of the caller's passkeys, after a step-up. Someone else's id is `NotFound`.
pub async fn remove(
    auth: &Auth,
    caller: &Authenticated,
    passkey_id: Uuid,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let owned = passkey::Entity::find_by_id(passkey_id)
        .filter(passkey::Column::UserId.eq(caller.user.id))
        .one(&auth.db)
        .await?
        .ok_or(AuthError::NotFound)?;
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, caller.user.id, now).await?;
    passkey::Entity::delete_by_id(owned.id).exec(&txn).await?;
    record(
        &txn,
        caller.user.id,
        Kind::PasskeyRemoved,
        client,
        Some(caller.session_id),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Starts a passkey sign-in for `username`. An unknown name, or one without passkeys, gets
/// options of the same shape (a stable made-up credential id), so the answer does not tell
/// which accounts exist or use passkeys; finishing it fails like a wrong passkey.
pub async fn start_sign_in(
    auth: &Auth,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Ceremony, AuthError> {
    let account = match Username::parse(username.to_owned()) {
        Ok(name) => credentials::find_by_username(&auth.db, &name).await?,
        Err(_) => None,
    };
    let keys: Vec<Passkey> = match &account {
        Some(account) => passkeys_of(&auth.db, account.id)
            .await?
            .iter()
            .filter_map(credential_of)
            .collect(),
        None => Vec::new(),
    };
    let (options, state, user_id) = match (account, keys.is_empty()) {
        (Some(account), false) => {
            let (options, state) = auth
                .webauthn
                .start_passkey_authentication(&keys)
                .map_err(|e| AuthError::Internal(format!("WebAuthn sign-in: {e}")))?;
            let options = serde_json::to_value(options)
                .map_err(|e| AuthError::Internal(format!("WebAuthn options: {e}")))?;
            (options, Some(to_json(&state)?), Some(account.id))
        }
        _ => (decoy_options(auth, username)?, None, None),
    };
    let token = challenges::create(
        &auth.db,
        challenges::Kind::PasskeySignIn,
        user_id,
        state,
        now,
    )
    .await?;
    Ok(Ceremony { token, options })
}

/// Finishes a passkey sign-in and starts a session. Failures count against the client's
/// address (a passkey cannot be guessed, but the endpoint can be flooded).
pub async fn finish_sign_in(
    auth: &Auth,
    ceremony: &str,
    credential: serde_json::Value,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, AuthError> {
    let checks: Vec<_> = auth
        .policy
        .throttle
        .address
        .zip(client.ip)
        .map(|(rule, ip)| (Key::login_address(ip), rule))
        .into_iter()
        .collect();
    let reservation = throttle::reserve(&auth.db, checks, now).await?;
    let challenge = challenges::find(&auth.db, ceremony, challenges::Kind::PasskeySignIn, now)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    if !challenges::consume(&auth.db, &challenge).await? {
        return Err(AuthError::InvalidPasskey);
    }
    let (Some(user_id), Some(state)) = (challenge.user_id, challenge.state.as_deref()) else {
        return Err(AuthError::InvalidPasskey);
    };
    let state: PasskeyAuthentication = from_json(Some(state))?;
    let response: PublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| AuthError::InvalidPasskey)?;
    let result = auth
        .webauthn
        .finish_passkey_authentication(&response, &state)
        .map_err(|e| {
            credentials::count_login("passkey_failed");
            tracing::info!(event = "passkey_sign_in_failed", %user_id, error = %e, "passkey sign-in failed");
            AuthError::InvalidPasskey
        })?;
    let credential_id = credential_id_text(result.cred_id());
    let row = passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .filter(passkey::Column::CredentialId.eq(credential_id))
        .one(&auth.db)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    let account = user::Entity::find_by_id(user_id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    if account.disabled_at.is_some() {
        return Err(AuthError::AccountDisabled);
    }
    // The counter and backup state move with each use (a cloned authenticator shows up as
    // a counter going backwards, which webauthn-rs refuses above).
    let mut key = credential_of(&row).ok_or(AuthError::InvalidPasskey)?;
    let updated = key.update_credential(&result).unwrap_or(false);
    let txn = storage::begin_write(&auth.db).await?;
    throttle::release(&txn, &reservation, now).await?;
    let mut update = passkey::Entity::update_many()
        .col_expr(passkey::Column::LastUsedAt, Expr::value(Some(now)))
        .filter(passkey::Column::Id.eq(row.id));
    if updated {
        update = update.col_expr(passkey::Column::Credential, Expr::value(to_json(&key)?));
    }
    update.exec(&txn).await?;
    let session = sessions::start_as(
        auth,
        &txn,
        &super::Identity::from(&account),
        client,
        Kind::SignedInWithPasskey,
        now,
    )
    .await?;
    txn.commit().await?;
    credentials::count_login("succeeded");
    tracing::info!(event = "login", method = "passkey", user_id = %account.id, session_id = %session.session_id, "login succeeded");
    Ok(SignedIn {
        session,
        device: None,
    })
}

fn credential_of(row: &passkey::Model) -> Option<Passkey> {
    serde_json::from_str(&row.credential).ok()
}

fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// Request options for a name that has no passkeys: a fresh challenge and a credential id
/// derived from the name (HMAC), the same on every try, so it looks like a real account's.
fn decoy_options(auth: &Auth, username: &str) -> Result<serde_json::Value, AuthError> {
    let mut challenge = [0u8; 32];
    getrandom::fill(&mut challenge)
        .map_err(|e| AuthError::Internal(format!("OS randomness: {e}")))?;
    let mut mac = auth.secrets.device_mac();
    mac.update(b"passkey-decoy:");
    mac.update(username.to_lowercase().as_bytes());
    let fake_id = mac.finalize().into_bytes();
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    Ok(serde_json::json!({
        "publicKey": {
            "challenge": b64(&challenge),
            "timeout": 300000,
            "rpId": auth.policy.webauthn_rp_id,
            "allowCredentials": [{ "type": "public-key", "id": b64(&fake_id[..16]) }],
            "userVerification": "required",
        }
    }))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AuthError> {
    serde_json::to_string(value).map_err(|e| AuthError::Internal(format!("WebAuthn state: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(value: Option<&str>) -> Result<T, AuthError> {
    serde_json::from_str(value.ok_or(AuthError::InvalidPasskey)?)
        .map_err(|e| AuthError::Internal(format!("WebAuthn state: {e}")))
}

async fn record(
    conn: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    kind: Kind,
    client: &ClientInfo,
    session_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    activity::record(
        conn,
        Event {
            user_id,
            kind,
            client: Some(client),
            session_id,
        },
        now,
    )
    .await
}
