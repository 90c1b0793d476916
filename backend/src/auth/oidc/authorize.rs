//! The authorization endpoint and the person's part of the flow, which the app performs: the
//! request is checked and stored, the app asks what to do next (`proceed`), the person decides
//! (`decide`), and a single-use code goes back to the client's redirect URI with `state` and
//! `iss` (RFC 9207).
//!
//! Errors go back to the client only once its redirect URI is known to be one it registered;
//! before that, the person is shown the error in the app (never a redirect to an unverified URI).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::{
    CODE_TTL, Provider, REQUEST_TTL, SCOPES, clients, digest, random_token, scope_list, with_query,
};
use crate::{
    auth::{
        AuthError, ClientInfo,
        activity::{self, Event, Kind},
        sessions::Authenticated,
    },
    entity::{oauth_code, oauth_consent, oauth_request, session, user},
    storage,
};

/// The query of `GET /oauth2/authorize`, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// Where the browser goes next.
pub type Location = String;

/// Checks an authorization request and stores it for the app; answers where to send the
/// browser: the app (`APP_URL/authorize?request=…`, or `?error=…` when the client or its
/// redirect URI is unknown), or the client's redirect URI with an error.
pub async fn begin(
    db: &DatabaseConnection,
    provider: &Provider,
    params: AuthorizeParams,
    now: DateTime<Utc>,
) -> Result<Location, AuthError> {
    let to_app = |error: &str| {
        with_query(
            &format!("{}/authorize", provider.app_url),
            &[("error", error)],
        )
    };
    let Some(client) = clients::find(db, params.client_id.as_deref().unwrap_or_default()).await?
    else {
        return Ok(to_app("invalid_client"));
    };
    let Some(redirect_uri) = params.redirect_uri.filter(|uri| client.redirects_to(uri)) else {
        return Ok(to_app("invalid_redirect_uri"));
    };
    let state = params.state.filter(|s| !s.is_empty());
    let fail = |error: &str, description: &str| {
        error_redirect(
            provider,
            &redirect_uri,
            state.as_deref(),
            error,
            description,
        )
    };
    if params.request.is_some() {
        return Ok(fail(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if params.request_uri.is_some() {
        return Ok(fail(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    if params.response_type.as_deref() != Some("code") {
        return Ok(fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let scope = params.scope.unwrap_or_default();
    let scopes = scope_list(&scope);
    if !scopes.iter().any(|s| s == "openid") {
        return Ok(fail("invalid_scope", "the openid scope is required"));
    }
    if scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Ok(fail("invalid_scope", "unknown scope"));
    }
    let challenge = params.code_challenge.unwrap_or_default();
    if params.code_challenge_method.as_deref() != Some("S256") || !is_pkce_value(&challenge) {
        return Ok(fail(
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        ));
    }
    let prompt = match params.prompt.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p @ ("none" | "login" | "consent")) => Some(p.to_owned()),
        Some(p) if p.split_whitespace().all(|v| v == "login" || v == "consent") => {
            // "login consent": sign in again, then ask.
            Some("login".to_owned())
        }
        Some(_) => {
            return Ok(fail(
                "invalid_request",
                "prompt must be none, login or consent",
            ));
        }
    };
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(age) if age >= 0 => Some(age),
            _ => {
                return Ok(fail(
                    "invalid_request",
                    "max_age must be a number of seconds",
                ));
            }
        },
    };
    let nonce = params.nonce.filter(|n| !n.is_empty());
    if state.as_ref().is_some_and(|s| s.len() > 1024)
        || nonce.as_ref().is_some_and(|n| n.len() > 1024)
    {
        return Ok(fail(
            "invalid_request",
            "state and nonce are limited to 1024 bytes",
        ));
    }
    let id = random_token()?;
    oauth_request::Entity::insert(oauth_request::ActiveModel {
        id: Set(digest(&id)),
        client_id: Set(client.client_id.clone()),
        redirect_uri: Set(redirect_uri),
        scope: Set(scopes.join(" ")),
        state: Set(state),
        nonce: Set(nonce),
        code_challenge: Set(challenge),
        prompt: Set(prompt),
        max_age: Set(max_age),
        created_at: Set(now),
        expires_at: Set(now + REQUEST_TTL),
    })
    .exec_without_returning(db)
    .await?;
    Ok(with_query(
        &format!("{}/authorize", provider.app_url),
        &[("request", &id)],
    ))
}

/// RFC 7636 §4.1: 43–128 unreserved characters.
fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The client's redirect URI with an error (RFC 6749 §4.1.2.1, RFC 9207 `iss`).
pub fn error_redirect(
    provider: &Provider,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Location {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", &provider.issuer));
    with_query(redirect_uri, &params)
}

/// A pending request as the app shows it.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub prompt: Option<String>,
}

async fn pending(
    conn: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<oauth_request::Model, AuthError> {
    if id.len() > 64 {
        return Err(AuthError::NotFound);
    }
    oauth_request::Entity::find_by_id(digest(id))
        .filter(oauth_request::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
        .ok_or(AuthError::NotFound)
}

/// The request `id` names, while it waits.
pub async fn show(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<PendingRequest, AuthError> {
    let request = pending(db, id, now).await?;
    let client = clients::find(db, &request.client_id)
        .await?
        .ok_or(AuthError::NotFound)?;
    Ok(PendingRequest {
        client_id: client.client_id,
        client_name: client.name,
        scopes: scope_list(&request.scope),
        prompt: request.prompt,
    })
}

/// What the app does next with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send the person through sign-in, then back.
    Login,
    /// Ask the person to allow or deny.
    Consent,
    /// Send the browser here (the client's redirect URI with a code or an error).
    Redirect(Location),
}

/// Decides what happens to request `id` for the person signed in in this browser (`caller`),
/// if anyone is. Issues the code when nothing needs asking.
pub async fn proceed(
    db: &DatabaseConnection,
    provider: &Provider,
    id: &str,
    caller: Option<&Authenticated>,
    now: DateTime<Utc>,
) -> Result<Next, AuthError> {
    let request = pending(db, id, now).await?;
    let none = request.prompt.as_deref() == Some("none");
    let Some(caller) = caller else {
        return if none {
            finish_with_error(
                db,
                provider,
                &request,
                "login_required",
                "the person is not signed in",
            )
            .await
        } else {
            Ok(Next::Login)
        };
    };
    let signed_in = session::Entity::find_by_id(caller.session_id)
        .one(db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let auth_time = signed_in.auth_time.unwrap_or(signed_in.created_at);
    let stale = needs_fresh_sign_in(&request, auth_time, now);
    if stale {
        return if none {
            finish_with_error(
                db,
                provider,
                &request,
                "login_required",
                "a fresh sign-in is needed",
            )
            .await
        } else {
            Ok(Next::Login)
        };
    }
    let consented = consent_covers(db, caller.user.id, &request.client_id, &request.scope).await?;
    if !consented || request.prompt.as_deref() == Some("consent") {
        return if none {
            finish_with_error(
                db,
                provider,
                &request,
                "consent_required",
                "the person has not allowed this application",
            )
            .await
        } else {
            Ok(Next::Consent)
        };
    }
    issue_code(db, provider, request, caller, &signed_in, None, now).await
}

/// Whether the request wants a sign-in more recent than `auth_time` (`prompt=login`, `max_age`).
/// A sign-in after the request arrived satisfies both (otherwise `max_age=0` or a slow sign-in
/// would send the person round in circles).
fn needs_fresh_sign_in(
    request: &oauth_request::Model,
    auth_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let fresh = auth_time >= request.created_at;
    let too_old = request
        .max_age
        .is_some_and(|max_age| now - auth_time > chrono::Duration::seconds(max_age));
    !fresh && (too_old || request.prompt.as_deref() == Some("login"))
}

/// The person's answer to the consent page. Allowing remembers the consent and issues the code;
/// denying sends `access_denied`. The request is used either way.
pub async fn decide(
    db: &DatabaseConnection,
    provider: &Provider,
    id: &str,
    caller: &Authenticated,
    allow: bool,
    client_info: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Next, AuthError> {
    let request = pending(db, id, now).await?;
    if !allow {
        return finish_with_error(
            db,
            provider,
            &request,
            "access_denied",
            "the person denied the request",
        )
        .await;
    }
    let signed_in = session::Entity::find_by_id(caller.session_id)
        .one(db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    // Allowing cannot skip the fresh sign-in the client asked for: sign in again first.
    if needs_fresh_sign_in(
        &request,
        signed_in.auth_time.unwrap_or(signed_in.created_at),
        now,
    ) {
        return Err(AuthError::Unauthenticated);
    }
    issue_code(
        db,
        provider,
        request,
        caller,
        &signed_in,
        Some(client_info),
        now,
    )
    .await
}

/// Ends the request and sends its error to the client.
async fn finish_with_error(
    db: &DatabaseConnection,
    provider: &Provider,
    request: &oauth_request::Model,
    error: &str,
    description: &str,
) -> Result<Next, AuthError> {
    if !consume(db, &request.id).await? {
        return Err(AuthError::NotFound);
    }
    Ok(Next::Redirect(error_redirect(
        provider,
        &request.redirect_uri,
        request.state.as_deref(),
        error,
        description,
    )))
}

/// Deletes the request; `false` when another call used it first.
async fn consume(conn: &impl ConnectionTrait, id_hash: &str) -> Result<bool, AuthError> {
    Ok(oauth_request::Entity::delete_by_id(id_hash.to_owned())
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

async fn consent_covers(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
    scope: &str,
) -> Result<bool, AuthError> {
    let Some(consent) = oauth_consent::Entity::find_by_id((user_id, client_id.to_owned()))
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    let allowed = scope_list(&consent.scope);
    Ok(scope_list(scope).iter().all(|s| allowed.contains(s)))
}

/// Uses the request and issues its code, in one transaction; `client_info` is set when the
/// person just allowed the client (the consent is recorded then).
async fn issue_code(
    db: &DatabaseConnection,
    provider: &Provider,
    request: oauth_request::Model,
    caller: &Authenticated,
    signed_in: &session::Model,
    client_info: Option<&ClientInfo>,
    now: DateTime<Utc>,
) -> Result<Next, AuthError> {
    let txn = storage::begin_write(db).await?;
    if !consume(&txn, &request.id).await? {
        return Err(AuthError::NotFound);
    }
    let epoch: i32 = user::Entity::find_by_id(caller.user.id)
        .one(&txn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .map(|u| u.credential_epoch)
        .ok_or(AuthError::Unauthenticated)?;
    if let Some(client_info) = client_info {
        let existing =
            oauth_consent::Entity::find_by_id((caller.user.id, request.client_id.clone()))
                .one(&txn)
                .await?;
        let mut scopes = existing.map(|c| scope_list(&c.scope)).unwrap_or_default();
        scopes.extend(scope_list(&request.scope));
        scopes.sort();
        scopes.dedup();
        oauth_consent::Entity::insert(oauth_consent::ActiveModel {
            user_id: Set(caller.user.id),
            client_id: Set(request.client_id.clone()),
            scope: Set(scopes.join(" ")),
            allowed_at: Set(now),
            last_used_at: Set(Some(now)),
        })
        .on_conflict(
            OnConflict::columns([
                oauth_consent::Column::UserId,
                oauth_consent::Column::ClientId,
            ])
            .update_columns([
                oauth_consent::Column::Scope,
                oauth_consent::Column::AllowedAt,
                oauth_consent::Column::LastUsedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        activity::record(
            &txn,
            Event {
                user_id: caller.user.id,
                kind: Kind::AppAllowed,
                client: Some(client_info),
                session_id: Some(caller.session_id),
            },
            now,
        )
        .await?;
    } else {
        oauth_consent::Entity::update_many()
            .col_expr(oauth_consent::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(oauth_consent::Column::UserId.eq(caller.user.id))
            .filter(oauth_consent::Column::ClientId.eq(request.client_id.clone()))
            .exec(&txn)
            .await?;
    }
    let code = random_token()?;
    oauth_code::Entity::insert(oauth_code::ActiveModel {
        code_hash: Set(digest(&code)),
        client_id: Set(request.client_id.clone()),
        redirect_uri: Set(request.redirect_uri.clone()),
        code_challenge: Set(request.code_challenge.clone()),
        user_id: Set(caller.user.id),
        session_id: Set(caller.session_id),
        credential_epoch: Set(epoch),
        auth_time: Set(signed_in.auth_time.unwrap_or(signed_in.created_at)),
        amr: Set(signed_in.amr.clone().unwrap_or_else(|| "pwd".to_owned())),
        nonce: Set(request.nonce.clone()),
        scope: Set(request.scope.clone()),
        created_at: Set(now),
        expires_at: Set(now + CODE_TTL),
        used_at: Set(None),
        grant_id: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(event = "oauth_code_issued", user_id = %caller.user.id, client_id = request.client_id, "authorization code issued");
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = request.state.as_deref() {
        params.push(("state", state));
    }
    params.push(("iss", &provider.issuer));
    Ok(Next::Redirect(with_query(&request.redirect_uri, &params)))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn request(
        prompt: Option<&str>,
        max_age: Option<i64>,
        created_at: DateTime<Utc>,
    ) -> oauth_request::Model {
        oauth_request::Model {
            id: String::new(),
            client_id: String::new(),
            redirect_uri: String::new(),
            scope: "openid".to_owned(),
            state: None,
            nonce: None,
            code_challenge: String::new(),
            prompt: prompt.map(str::to_owned),
            max_age,
            created_at,
            expires_at: created_at + REQUEST_TTL,
        }
    }

    #[test]
    fn max_age_and_prompt_login_want_a_sign_in_after_the_request() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let signed_in_before = at - Duration::minutes(5);
        // max_age: older than allowed is stale, younger is fine.
        assert!(needs_fresh_sign_in(
            &request(None, Some(60), at),
            signed_in_before,
            at
        ));
        assert!(!needs_fresh_sign_in(
            &request(None, Some(600), at),
            signed_in_before,
            at
        ));
        // prompt=login: any sign-in from before the request is stale.
        assert!(needs_fresh_sign_in(
            &request(Some("login"), None, at),
            signed_in_before,
            at
        ));
        // A sign-in after the request satisfies both, even max_age=0 a moment later.
        let later = at + Duration::seconds(3);
        assert!(!needs_fresh_sign_in(
            &request(Some("login"), Some(0), at),
            at + Duration::seconds(1),
            later
        ));
        // Neither asked: never stale.
        assert!(!needs_fresh_sign_in(
            &request(None, None, at),
            at - Duration::days(20),
            at
        ));
    }
}
