//! Passkeys (WebAuthn, with webauthn-rs): registering one on a signed-in account, signing in
//! with one, listing, renaming and removing them. Ceremony state stays on the server
//! (`challenges`), single use, five minutes. A passkey sign-in needs user verification, so it
//! is two factors in itself and skips the authenticator app.
//!
//! Passkeys are discoverable credentials: signing in needs no username (the authenticator
//! offers the account, through the browser's autofill or its own prompt), so starting a
//! sign-in tells nothing about which accounts exist or use passkeys.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, SqlErr, sea_query::Expr,
};
use uuid::Uuid;
use webauthn_rs::{
    Webauthn, WebauthnBuilder,
    prelude::{
        DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
        RegisterPublicKeyCredential, Url,
    },
};

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    attempt::{self, Action, Attempt, Claimant},
    challenges,
    credentials::SignedIn,
    device,
    notices::{self, Notice},
    second_factor::{self, StepUpAnswer},
    sessions::Authenticated,
    standing::{self, Standing},
    throttle::Key,
};
use crate::{
    domain::{PasskeyName, describe_device},
    entity::{passkey, user},
    storage,
};

/// The WebAuthn relying party as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebauthnSettings {
    /// The passkeys' relying party id, a domain (`WEBAUTHN_RP_ID`).
    pub rp_id: String,
    /// Where the browser runs the ceremonies (`WEBAUTHN_ORIGIN`).
    pub origin: String,
}

/// The relying party, from `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGIN`.
pub fn relying_party(settings: &WebauthnSettings) -> Result<Webauthn, AuthError> {
    let origin =
        Url::parse(&settings.origin).map_err(|e| AuthError::internal("WEBAUTHN_ORIGIN", e))?;
    WebauthnBuilder::new(&settings.rp_id, &origin)
        .and_then(|builder| builder.rp_name("Latchkey").build())
        .map_err(|e| AuthError::internal("the WebAuthn relying party", e))
}

/// A ceremony for the client: the token naming it, and the options for the browser
/// (`navigator.credentials.create` / `.get`), as webauthn-rs writes them.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub token: String,
    pub options: serde_json::Value,
}

/// A registration ceremony, with a name for the new passkey suggested from the device.
#[derive(Debug, Clone)]
pub struct Registration {
    pub ceremony: Ceremony,
    pub suggested_name: PasskeyName,
}

/// Starts registering a passkey for the caller, after a step-up (the password, and the
/// second factor when 2FA is on): a stolen session alone cannot plant a lasting credential.
/// The ceremony dies with the account's standing (a password change, a factor reset).
pub async fn start_registration(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Registration, AuthError> {
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
        .map_err(|e| AuthError::internal("starting a WebAuthn registration", e))?;
    let mut options =
        serde_json::to_value(options).map_err(|e| AuthError::internal("WebAuthn options", e))?;
    require_discoverable(&mut options);
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    let token = challenges::create(
        &txn,
        challenges::Kind::PasskeyRegistration,
        Some(step_up.standing()),
        Some(to_json(&state)?),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Registration {
        ceremony: Ceremony { token, options },
        suggested_name: PasskeyName::suggested(&describe_device(client.user_agent.as_deref())),
    })
}

/// Asks the authenticator to store a discoverable credential (a "resident key"), which is
/// what lets a sign-in start without a username. webauthn-rs's passkey registration leaves
/// this to the authenticator; platform passkeys are discoverable anyway, and the registration
/// is verified the same way whatever the authenticator chose.
fn require_discoverable(options: &mut serde_json::Value) {
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
}

/// Finishes a registration: verifies the authenticator's answer and stores the passkey under
/// `name` (or the name suggested for this device). A failed ceremony is
/// `InvalidPasskeyRegistration`: a bad answer from this client, not a failed sign-in.
pub async fn finish_registration(
    auth: &Auth,
    caller: &Authenticated,
    ceremony: &str,
    name: Option<PasskeyName>,
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
    .ok_or(AuthError::InvalidPasskeyRegistration)?;
    let standing =
        challenges::standing_of(&challenge).ok_or(AuthError::InvalidPasskeyRegistration)?;
    let state: PasskeyRegistration =
        from_json(challenge.state.as_deref())?.ok_or(AuthError::InvalidPasskeyRegistration)?;
    let response: RegisterPublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| AuthError::InvalidPasskeyRegistration)?;
    let key = auth
        .webauthn
        .finish_passkey_registration(&response, &state)
        .map_err(|e| {
            tracing::info!(event = "passkey_registration_failed", user_id = %caller.user.id, error = %e, "passkey registration failed");
            AuthError::InvalidPasskeyRegistration
        })?;
    let name = name
        .unwrap_or_else(|| PasskeyName::suggested(&describe_device(client.user_agent.as_deref())));
    let row = passkey::Model {
        id: Uuid::new_v4(),
        user_id: caller.user.id,
        name: name.as_str().to_owned(),
        credential_id: credential_id_text(key.cred_id()),
        credential: to_json(&key)?,
        created_at: now,
        last_used_at: None,
    };
    let txn = storage::begin_write(&auth.db).await?;
    // A password change or factor reset during the ceremony ends it.
    standing::confirm(&txn, standing, AuthError::InvalidPasskeyRegistration).await?;
    if !challenges::consume(&txn, &challenge).await? {
        return Err(AuthError::InvalidPasskeyRegistration);
    }
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
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::PasskeyAdded,
        Some(client),
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

/// Renames one of the caller's passkeys. Someone else's id is `NotFound`.
pub async fn rename(
    db: &DatabaseConnection,
    caller: &Authenticated,
    passkey_id: Uuid,
    name: &PasskeyName,
) -> Result<passkey::Model, AuthError> {
    let renamed = passkey::Entity::update_many()
        .col_expr(passkey::Column::Name, Expr::value(name.as_str()))
        .filter(passkey::Column::Id.eq(passkey_id))
        .filter(passkey::Column::UserId.eq(caller.user.id))
        .exec(db)
        .await?
        .rows_affected;
    if renamed != 1 {
        return Err(AuthError::NotFound);
    }
    passkey::Entity::find_by_id(passkey_id)
        .one(db)
        .await?
        .ok_or(AuthError::NotFound)
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
    step_up.apply(&txn, now).await?;
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
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::PasskeyRemoved,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Starts a passkey sign-in: options with no `allowCredentials` (the authenticator offers
/// whichever passkey it holds for this site), the same for everyone. Limited per address
/// before the ceremony is stored, since anyone may call it.
pub async fn start_sign_in(
    auth: &Auth,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Ceremony, AuthError> {
    let rule = auth.policy.throttle.passkey_start;
    attempt::count_address(
        auth,
        rule,
        Key::passkey_start_address,
        client,
        Action::Passkey,
        now,
    )
    .await?;
    let (options, state) = auth
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| AuthError::internal("starting a WebAuthn sign-in", e))?;
    let mut options =
        serde_json::to_value(options).map_err(|e| AuthError::internal("WebAuthn options", e))?;
    // How to ask (the browser's autofill, or a prompt on a button) is the page's choice.
    if let Some(options) = options.as_object_mut() {
        options.remove("mediation");
    }
    let token = challenges::create(
        &auth.db,
        challenges::Kind::PasskeySignIn,
        None,
        Some(to_json(&state)?),
        now,
    )
    .await?;
    Ok(Ceremony { token, options })
}

/// Finishes a passkey sign-in and starts a session. The passkey names its account; failures
/// count against the client's address (a passkey cannot be guessed, but the endpoint can be
/// flooded).
pub async fn finish_sign_in(
    auth: &Auth,
    ceremony: &str,
    credential: serde_json::Value,
    device_token: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, AuthError> {
    let mut attempt =
        Attempt::begin(auth, Claimant::Unnamed, None, client, Action::Passkey, now).await?;
    let verified = verify_sign_in(auth, ceremony, credential, now).await;
    let (account, row, key) = match verified {
        Ok(found) => found,
        Err(e @ AuthError::InvalidPasskey) => {
            attempt.failed(auth, None, client, now);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if account.disabled_at.is_some() {
        attempt.passed_now(&auth.db, now).await?;
        return Err(AuthError::AccountDisabled);
    }
    // The passkey named the account: the device is recognised only now.
    attempt.device = device::recognise(&auth.db, device_token, Some(&account), now).await?;
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(&txn, Standing::of(&account), AuthError::InvalidPasskey).await?;
    let mut update = passkey::Entity::update_many()
        .col_expr(passkey::Column::LastUsedAt, Expr::value(Some(now)))
        .filter(passkey::Column::Id.eq(row.id));
    if let Some(key) = key {
        update = update.col_expr(passkey::Column::Credential, Expr::value(to_json(&key)?));
    }
    // The passkey may have been removed meanwhile.
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(AuthError::InvalidPasskey);
    }
    let signed_in = attempt
        .sign_in(
            auth,
            &txn,
            &account,
            Kind::SignedInWithPasskey,
            "hwk",
            client,
            now,
        )
        .await?;
    txn.commit().await?;
    attempt::count_login("succeeded");
    tracing::info!(event = "login", method = "passkey", user_id = %account.id, session_id = %signed_in.session.session_id, "login succeeded");
    Ok(signed_in)
}

/// The ceremony's answer, verified: the account, its passkey, and the credential to store back
/// when its counter or backup state moved. Any failure of the ceremony is `InvalidPasskey`.
async fn verify_sign_in(
    auth: &Auth,
    ceremony: &str,
    credential: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(user::Model, passkey::Model, Option<Passkey>), AuthError> {
    let challenge = challenges::find(&auth.db, ceremony, challenges::Kind::PasskeySignIn, now)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    // Single use, whatever the outcome.
    if !challenges::consume(&auth.db, &challenge).await? {
        return Err(AuthError::InvalidPasskey);
    }
    let state: DiscoverableAuthentication =
        from_json(challenge.state.as_deref())?.ok_or(AuthError::InvalidPasskey)?;
    let response: PublicKeyCredential =
        serde_json::from_value(credential).map_err(|_| AuthError::InvalidPasskey)?;
    let (user_handle, credential_id) = auth
        .webauthn
        .identify_discoverable_authentication(&response)
        .map_err(|_| AuthError::InvalidPasskey)?;
    let row = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id_text(credential_id)))
        .filter(passkey::Column::UserId.eq(user_handle))
        .one(&auth.db)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    let account = user::Entity::find_by_id(row.user_id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::InvalidPasskey)?;
    let mut key = credential_of(&row).ok_or(AuthError::InvalidPasskey)?;
    let result = auth
        .webauthn
        .finish_discoverable_authentication_v2(&response, state, &key)
        .map_err(|e| {
            tracing::info!(event = "passkey_sign_in_failed", user_id = %row.user_id, error = %e, "passkey sign-in failed");
            AuthError::InvalidPasskey
        })?;
    // The counter and backup state move with each use (a cloned authenticator shows up as a
    // counter going backwards, which webauthn-rs refuses above).
    let changed = key.update_credential(&result).unwrap_or(false);
    Ok((account, row, changed.then_some(key)))
}

fn credential_of(row: &passkey::Model) -> Option<Passkey> {
    serde_json::from_str(&row.credential).ok()
}

fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AuthError> {
    serde_json::to_string(value).map_err(|e| AuthError::internal("storing WebAuthn state", e))
}

/// The ceremony state stored with a challenge, if it has one.
fn from_json<T: serde::de::DeserializeOwned>(value: Option<&str>) -> Result<Option<T>, AuthError> {
    value
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| AuthError::internal("reading WebAuthn state", e))
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
