//! The token endpoint (authorization code with PKCE, refresh token), the tokens it mints (ID
//! tokens, RFC 9068 access tokens), userinfo, revocation (RFC 7009), introspection (RFC 7662),
//! and the person's list of connected apps.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{
    OAuthError, Provider,
    clients::{self, Authenticated as AuthenticatedClient, Client},
    digest, scope_list,
};
use crate::{
    auth::{
        Auth, AuthError, ClientInfo,
        activity::{self, Event, Kind},
        keys::TOKEN_TYPE,
        roles,
        sessions::{self, duration},
        standing::{self, Standing},
        tokens::RefreshToken,
    },
    entity::{oauth_client, oauth_code, oauth_consent, refresh_token, session, user},
    storage,
};

/// An RFC 9068 access token issued to a client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientAccessClaims {
    pub iss: String,
    pub sub: Uuid,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    pub client_id: String,
    pub scope: String,
    /// The grant (session) it belongs to.
    pub sid: Uuid,
    /// The roles the person held when it was signed (RFC 9068 §2.2.3.1), read from the
    /// database at the code exchange and at every refresh.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// An ID token (OpenID Connect Core §2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    pub iss: String,
    pub sub: Uuid,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<String>,
    pub acr: String,
    /// The browser session the person authorized from.
    pub sid: Uuid,
    pub azp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// What the token endpoint returns.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: Option<RefreshToken>,
    pub scope: String,
}

/// What a client claims at the token endpoint, beside its credentials.
#[derive(Debug, Clone, Default)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

/// `grant_type=authorization_code`: the code, bound to this client, its redirect URI and PKCE
/// challenge, is used once (a conditional update); a code that comes back ends the grant it was
/// exchanged for (RFC 6749 §4.1.2). The person's standing is re-checked in the transaction
/// that creates the grant.
pub async fn exchange_code(
    auth: &Auth,
    provider: &Provider,
    authenticated: AuthenticatedClient,
    exchange: CodeExchange,
    caller: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Tokens, OAuthError> {
    let AuthenticatedClient {
        client,
        reservation,
    } = authenticated;
    let bad = OAuthError::InvalidGrant(
        "the code is invalid, expired, used, or was issued for another client or redirect URI",
    );
    if exchange.code.is_empty() || exchange.code.len() > 64 {
        return Err(bad);
    }
    let code_hash = digest(&exchange.code);
    let Some(code) = oauth_code::Entity::find_by_id(code_hash.clone())
        .one(&auth.db)
        .await?
    else {
        return Err(bad);
    };
    if code.client_id != client.client_id {
        return Err(bad);
    }
    if code.used_at.is_some() {
        revoke_code_grant(auth, &code, now).await?;
        return Err(bad);
    }
    if code.expires_at <= now || code.redirect_uri != exchange.redirect_uri {
        return Err(bad);
    }
    let verifier_ok = (43..=128).contains(&exchange.code_verifier.len())
        && URL_SAFE_NO_PAD.encode(Sha256::digest(exchange.code_verifier.as_bytes()))
            == code.code_challenge;
    if !verifier_ok {
        return Err(OAuthError::InvalidGrant(
            "the code_verifier does not match the code_challenge",
        ));
    }
    let policy = &auth.policy.sessions;
    let txn = storage::begin_write(&auth.db).await?;
    standing::confirm(
        &txn,
        Standing {
            user_id: code.user_id,
            epoch: code.credential_epoch,
        },
        AuthError::InvalidToken,
    )
    .await
    .map_err(|e| match e {
        AuthError::AccountDisabled | AuthError::InvalidToken => {
            OAuthError::InvalidGrant("the account changed since the code was issued")
        }
        other => other.into(),
    })?;
    let grant_id = Uuid::new_v4();
    let used = oauth_code::Entity::update_many()
        .col_expr(oauth_code::Column::UsedAt, Expr::value(Some(now)))
        .col_expr(oauth_code::Column::GrantId, Expr::value(Some(grant_id)))
        .filter(oauth_code::Column::CodeHash.eq(code_hash))
        .filter(oauth_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if used != 1 {
        drop(txn);
        revoke_code_grant(auth, &code, now).await?;
        return Err(bad);
    }
    let offline = scope_list(&code.scope)
        .iter()
        .any(|s| s == "offline_access");
    let absolute_expires_at = now + duration(policy.max_lifetime);
    let expires_at = if offline {
        sessions::sliding_expiry(policy, now, absolute_expires_at)
    } else {
        now + duration(policy.access_ttl)
    };
    session::Entity::insert(session::ActiveModel {
        id: Set(grant_id),
        user_id: Set(code.user_id),
        generation: Set(0),
        created_at: Set(now),
        last_used_at: Set(now),
        rotated_at: Set(None),
        expires_at: Set(expires_at),
        absolute_expires_at: Set(absolute_expires_at),
        revoked_at: Set(None),
        user_agent: Set(caller.user_agent.clone()),
        ip: Set(caller.ip.map(|ip| ip.to_string())),
        client_id: Set(Some(client.client_id.clone())),
        scope: Set(Some(code.scope.clone())),
        amr: Set(Some(code.amr.clone())),
        auth_time: Set(Some(code.auth_time)),
        parent_session_id: Set(Some(code.session_id)),
        stepped_up_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let refresh = if offline {
        let token = RefreshToken::generate()?;
        sessions::record_token(&txn, &token, grant_id, 0, now).await?;
        Some(token)
    } else {
        None
    };
    crate::auth::throttle::release(&txn, &reservation, now).await?;
    let account = user::Entity::find_by_id(code.user_id)
        .one(&txn)
        .await?
        .ok_or(bad)?;
    let roles = roles::of_user(&txn, code.user_id).await?;
    txn.commit().await?;
    tracing::info!(event = "oauth_code_exchanged", user_id = %code.user_id, client_id = client.client_id, grant_id = %grant_id, "authorization code exchanged");
    let grant = Grant {
        id: grant_id,
        parent: code.session_id,
        scope: code.scope,
        amr: code.amr,
        auth_time: code.auth_time,
    };
    mint(
        auth, provider, &client, &account, &roles, &grant, code.nonce, refresh, now,
    )
}

/// Ends the grant a reused code was exchanged for.
async fn revoke_code_grant(
    auth: &Auth,
    code: &oauth_code::Model,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if let Some(grant_id) = code.grant_id {
        let txn = storage::begin_write(&auth.db).await?;
        if sessions::revoke_in(&txn, grant_id, now).await?.is_some() {
            tracing::warn!(event = "oauth_code_reuse", security = true, user_id = %code.user_id, client_id = code.client_id, grant_id = %grant_id, "an authorization code was used twice; its grant is revoked");
        }
        txn.commit().await?;
    }
    Ok(())
}

/// `grant_type=refresh_token`: rotates the grant's refresh token (a spent one revokes the
/// grant) and mints new tokens. A disabled account or ended grant is `invalid_grant`.
pub async fn refresh(
    auth: &Auth,
    provider: &Provider,
    authenticated: AuthenticatedClient,
    presented: &str,
    caller: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Tokens, OAuthError> {
    let AuthenticatedClient {
        client,
        reservation,
    } = authenticated;
    // A refresh token (256 random bits) cannot be guessed: nothing to count.
    clients::release(auth, &reservation, now).await?;
    let rotated = sessions::rotate_family(auth, presented, Some(&client.client_id), caller, now)
        .await
        .map_err(|e| match e {
            AuthError::InvalidRefreshToken => {
                OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked")
            }
            other => other.into(),
        })?;
    let session = &rotated.session;
    let grant = Grant {
        id: session.id,
        parent: session.parent_session_id.unwrap_or(session.id),
        scope: session.scope.clone().unwrap_or_default(),
        amr: session.amr.clone().unwrap_or_default(),
        auth_time: session.auth_time.unwrap_or(session.created_at),
    };
    mint(
        auth,
        provider,
        &client,
        &rotated.account,
        &rotated.roles,
        &grant,
        None,
        Some(rotated.token),
        now,
    )
}

/// A grant as the tokens describe it.
struct Grant {
    id: Uuid,
    parent: Uuid,
    scope: String,
    amr: String,
    auth_time: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
fn mint(
    auth: &Auth,
    provider: &Provider,
    client: &Client,
    account: &user::Model,
    roles: &[String],
    grant: &Grant,
    nonce: Option<String>,
    refresh_token: Option<RefreshToken>,
    now: DateTime<Utc>,
) -> Result<Tokens, OAuthError> {
    let ttl = duration(auth.policy.sessions.access_ttl);
    let exp = (now + ttl).timestamp();
    let scopes = scope_list(&grant.scope);
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let access_token = auth.keys.sign_client_access(
        &ClientAccessClaims {
            iss: provider.issuer.clone(),
            sub: account.id,
            aud: client.client_id.clone(),
            exp,
            iat: now.timestamp(),
            jti: Uuid::new_v4(),
            client_id: client.client_id.clone(),
            scope: grant.scope.clone(),
            sid: grant.id,
            roles: roles.to_vec(),
        },
        now.timestamp(),
    )?;
    let amr: Vec<String> = grant.amr.split_whitespace().map(str::to_owned).collect();
    let mfa = amr.iter().any(|m| m == "mfa" || m == "hwk");
    let email = account.email.clone().filter(|_| has("email"));
    let id_token = auth.keys.sign_id_token(
        &IdClaims {
            iss: provider.issuer.clone(),
            sub: account.id,
            aud: client.client_id.clone(),
            exp,
            iat: now.timestamp(),
            auth_time: grant.auth_time.timestamp(),
            nonce,
            amr,
            acr: if mfa { "2" } else { "1" }.to_owned(),
            sid: grant.parent,
            azp: client.client_id.clone(),
            preferred_username: has("profile").then(|| account.username.clone()),
            email_verified: email.as_ref().map(|_| account.email_verified_at.is_some()),
            email,
        },
        now.timestamp(),
        client.id_token_alg,
    )?;
    Ok(Tokens {
        access_token,
        expires_in: ttl.num_seconds(),
        id_token,
        refresh_token,
        scope: grant.scope.clone(),
    })
}

/// The person and grant behind a client's access token, while the grant is live and the
/// account enabled: what userinfo and introspection answer from.
#[derive(Debug, Clone)]
pub struct LiveAccess {
    pub claims: ClientAccessClaims,
    pub account: user::Model,
}

/// Verifies a client's access token (never one of Latchkey's own: their issuer differs) and
/// checks that its grant is still live.
pub async fn live_access(
    auth: &Auth,
    provider: &Provider,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveAccess>, AuthError> {
    let Some(claims) = auth.keys.verify_issued::<ClientAccessClaims>(
        token,
        &provider.issuer,
        TOKEN_TYPE,
        false,
        now,
    ) else {
        return Ok(None);
    };
    if claims.aud != claims.client_id {
        return Ok(None);
    }
    let live = session::Entity::find_by_id(claims.sid)
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ClientId.eq(claims.client_id.clone()))
        .filter(session::Column::UserId.eq(claims.sub))
        .filter(session::Column::AbsoluteExpiresAt.gt(now))
        .one(&auth.db)
        .await?;
    if live.is_none() {
        return Ok(None);
    }
    let Some(account) = user::Entity::find_by_id(claims.sub)
        .filter(user::Column::DisabledAt.is_null())
        .one(&auth.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(LiveAccess { claims, account }))
}

/// The userinfo claims for a live access token (OpenID Connect Core §5.3).
pub fn userinfo(access: &LiveAccess) -> serde_json::Value {
    let scopes = scope_list(&access.claims.scope);
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut claims = serde_json::json!({ "sub": access.account.id });
    if has("profile") {
        claims["preferred_username"] = access.account.username.clone().into();
    }
    if has("email")
        && let Some(email) = &access.account.email
    {
        claims["email"] = email.clone().into();
        claims["email_verified"] = access.account.email_verified_at.is_some().into();
    }
    claims
}

/// The grant a presented token (a refresh token or a client's access token) belongs to, if it
/// is this client's.
async fn grant_of(
    auth: &Auth,
    provider: &Provider,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(session::Model, Option<i64>)>, AuthError> {
    if let Some(refresh) = RefreshToken::parse(token) {
        let Some(row) = refresh_token::Entity::find_by_id(refresh.hash())
            .one(&auth.db)
            .await?
        else {
            return Ok(None);
        };
        let grant = session::Entity::find_by_id(row.session_id)
            .filter(session::Column::ClientId.eq(client.client_id.clone()))
            .one(&auth.db)
            .await?;
        return Ok(grant.map(|g| (g, Some(row.generation))));
    }
    let Some(claims) = auth.keys.verify_issued::<ClientAccessClaims>(
        token,
        &provider.issuer,
        TOKEN_TYPE,
        true,
        now,
    ) else {
        return Ok(None);
    };
    if claims.client_id != client.client_id {
        return Ok(None);
    }
    Ok(session::Entity::find_by_id(claims.sid)
        .filter(session::Column::ClientId.eq(client.client_id.clone()))
        .one(&auth.db)
        .await?
        .map(|g| (g, None)))
}

/// RFC 7009: ends the grant the token belongs to, if it is this client's; unknown tokens are
/// ignored (the answer is the same).
pub async fn revoke(
    auth: &Auth,
    provider: &Provider,
    authenticated: AuthenticatedClient,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let AuthenticatedClient {
        client,
        reservation,
    } = authenticated;
    clients::release(auth, &reservation, now).await?;
    if let Some((grant, _)) = grant_of(auth, provider, &client, token, now).await? {
        let txn = storage::begin_write(&auth.db).await?;
        if sessions::revoke_in(&txn, grant.id, now).await?.is_some() {
            tracing::info!(event = "oauth_token_revoked", client_id = client.client_id, grant_id = %grant.id, "grant revoked by its client");
        }
        txn.commit().await?;
    }
    Ok(())
}

/// RFC 7662 for confidential clients: what an active token of this client is.
pub async fn introspect(
    auth: &Auth,
    provider: &Provider,
    authenticated: AuthenticatedClient,
    token: &str,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, OAuthError> {
    let AuthenticatedClient {
        client,
        reservation,
    } = authenticated;
    if !client.confidential {
        return Err(OAuthError::InvalidClient);
    }
    clients::release(auth, &reservation, now).await?;
    let inactive = serde_json::json!({ "active": false });
    let Some((grant, generation)) = grant_of(auth, provider, &client, token, now).await? else {
        return Ok(inactive);
    };
    let live = grant.revoked_at.is_none()
        && grant.absolute_expires_at > now
        && generation.is_none_or(|g| g == grant.generation && grant.expires_at > now);
    let Some(account) = user::Entity::find_by_id(grant.user_id)
        .filter(user::Column::DisabledAt.is_null())
        .one(&auth.db)
        .await?
        .filter(|_| live)
    else {
        return Ok(inactive);
    };
    let mut answer = serde_json::json!({
        "active": true,
        "client_id": client.client_id,
        "scope": grant.scope.unwrap_or_default(),
        "sub": account.id,
        "username": account.username,
        "iss": provider.issuer,
        "token_type": if generation.is_some() { "refresh_token" } else { "access_token" },
    });
    if generation.is_some() {
        answer["exp"] = grant.expires_at.timestamp().into();
    } else if let Some(claims) = auth.keys.verify_issued::<ClientAccessClaims>(
        token,
        &provider.issuer,
        TOKEN_TYPE,
        false,
        now,
    ) {
        answer["exp"] = claims.exp.into();
        answer["iat"] = claims.iat.into();
        answer["aud"] = claims.aud.into();
        answer["jti"] = claims.jti.to_string().into();
    } else {
        return Ok(inactive);
    }
    Ok(answer)
}

/// An application the person allowed.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub allowed_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The applications the person allowed, most recently allowed first.
pub async fn connected_apps(
    db: &DatabaseConnection,
    user_id: Uuid,
) -> Result<Vec<ConnectedApp>, AuthError> {
    let rows = oauth_consent::Entity::find()
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .order_by_desc(oauth_consent::Column::AllowedAt)
        .find_also_related(oauth_client::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(consent, client)| {
            client.map(|client| ConnectedApp {
                client_id: consent.client_id,
                name: client.name,
                scopes: scope_list(&consent.scope),
                allowed_at: consent.allowed_at,
                last_used_at: consent.last_used_at,
            })
        })
        .collect())
}

/// Forgets the person's consent for a client and ends every grant it holds for them, at once.
pub async fn revoke_app(
    db: &DatabaseConnection,
    user_id: Uuid,
    client_id: &str,
    caller: &ClientInfo,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let txn = storage::begin_write(db).await?;
    standing::hold(&txn, user_id).await?;
    let forgotten = oauth_consent::Entity::delete_many()
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .filter(oauth_consent::Column::ClientId.eq(client_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let ended = end_grants(&txn, user_id, client_id, now).await?;
    if forgotten == 0 && ended == 0 {
        return Err(AuthError::NotFound);
    }
    activity::record(
        &txn,
        Event {
            user_id,
            kind: Kind::AppRevoked,
            client: Some(caller),
            session_id: Some(session_id),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "app_revoked", %user_id, client_id, grants = ended, "connected app revoked by its person");
    Ok(())
}

async fn end_grants(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ClientId.eq(client_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}
