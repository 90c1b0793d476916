//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the request is checked and
//! stored, and the app ends the browser's Latchkey session and sends the person back.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _,
};

use super::{LOGOUT_TTL, Provider, clients, digest, grants::IdClaims, random_token, with_query};
use crate::{
    auth::{AuthError, keys::KeyRing},
    entity::oauth_logout_request,
};

/// The query of `GET /oauth2/logout`.
#[derive(Debug, Clone, Default)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// Checks a logout request and stores it; answers where the app takes over
/// (`APP_URL/end-session?request=…`, or `?error=invalid_request`).
pub async fn begin(
    db: &DatabaseConnection,
    keys: &KeyRing,
    provider: &Provider,
    params: LogoutParams,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let page = format!("{}/end-session", provider.app_url);
    let invalid = || Ok(with_query(&page, &[("error", "invalid_request")]));
    // An expired hint still names who is signing out of what (§2).
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(raw) => {
            match keys.verify_issued::<IdClaims>(raw, &provider.issuer, "JWT", true, now) {
                Some(claims) => Some(claims),
                None => return invalid(),
            }
        }
        None => None,
    };
    let client_id = match (
        hint.as_ref().map(|h| h.aud.clone()),
        params.client_id.filter(|c| !c.is_empty()),
    ) {
        (Some(aud), Some(named)) if aud != named => return invalid(),
        (Some(aud), _) => Some(aud),
        (None, named) => named,
    };
    let client = match &client_id {
        Some(id) => match clients::find(db, id).await? {
            Some(client) => Some(client),
            None => return invalid(),
        },
        None => None,
    };
    let redirect = match params.post_logout_redirect_uri.filter(|u| !u.is_empty()) {
        Some(uri) => match &client {
            Some(client) if client.post_logout_redirect_uris.contains(&uri) => Some(uri),
            _ => return invalid(),
        },
        None => None,
    };
    let state = params.state.filter(|s| !s.is_empty() && s.len() <= 1024);
    let id = random_token()?;
    oauth_logout_request::Entity::insert(oauth_logout_request::ActiveModel {
        id: Set(digest(&id)),
        client_id: Set(client.map(|c| c.client_id)),
        post_logout_redirect_uri: Set(redirect),
        state: Set(state),
        confirmed: Set(hint.is_some()),
        created_at: Set(now),
        expires_at: Set(now + LOGOUT_TTL),
    })
    .exec_without_returning(db)
    .await?;
    Ok(with_query(&page, &[("request", &id)]))
}

/// A stored logout request as the app shows it.
#[derive(Debug, Clone)]
pub struct PendingLogout {
    pub client_name: Option<String>,
    /// Ask the person first (no valid `id_token_hint` came).
    pub confirm: bool,
}

async fn find(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<oauth_logout_request::Model, AuthError> {
    if id.len() > 64 {
        return Err(AuthError::NotFound);
    }
    oauth_logout_request::Entity::find_by_id(digest(id))
        .filter(oauth_logout_request::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .ok_or(AuthError::NotFound)
}

pub async fn show(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<PendingLogout, AuthError> {
    let request = find(db, id, now).await?;
    let client_name = match &request.client_id {
        Some(client_id) => clients::find(db, client_id).await?.map(|c| c.name),
        None => None,
    };
    Ok(PendingLogout {
        client_name,
        confirm: !request.confirmed,
    })
}

/// Uses the request; returns where to send the person afterwards (with `state`), if anywhere.
/// The caller ends the browser's session.
pub async fn complete(
    db: &DatabaseConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, AuthError> {
    let request = find(db, id, now).await?;
    let used = oauth_logout_request::Entity::delete_by_id(request.id.clone())
        .exec(db)
        .await?
        .rows_affected;
    if used != 1 {
        return Err(AuthError::NotFound);
    }
    Ok(request
        .post_logout_redirect_uri
        .map(|uri| match request.state.as_deref() {
            Some(state) => with_query(&uri, &[("state", state)]),
            None => uri,
        }))
}
