//! Registered clients: created, listed, shown, deleted and given a new secret by the operator
//! (`latchkey clients`), and authenticated at the token endpoint. A secret is shown once and
//! stored as SHA-256 (it is 256 random bits, so a slow hash would add nothing).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, sea_query::Expr,
};

use super::{OAuthError, digest, digests_match, random_token};
use crate::{
    auth::{
        Auth, AuthError, ClientInfo,
        keys::JwtAlgorithm,
        throttle::{self, Key, Reservation},
    },
    domain::FieldError,
    entity::{oauth_client, session},
    storage,
};

/// A client as the rest of the provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// A confidential client authenticates with its secret; a public one cannot.
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_alg: JwtAlgorithm,
    pub created_at: DateTime<Utc>,
    secret_hash: Option<String>,
}

impl Client {
    fn from_row(row: oauth_client::Model) -> Result<Self, AuthError> {
        let list = |raw: &str| {
            serde_json::from_str::<Vec<String>>(raw)
                .map_err(|e| AuthError::internal("a client's stored URIs", e))
        };
        Ok(Self {
            redirect_uris: list(&row.redirect_uris)?,
            post_logout_redirect_uris: list(&row.post_logout_redirect_uris)?,
            id_token_alg: JwtAlgorithm::parse(&row.id_token_alg).unwrap_or(JwtAlgorithm::Rs256),
            confidential: row.secret_hash.is_some(),
            secret_hash: row.secret_hash,
            client_id: row.client_id,
            name: row.name,
            created_at: row.created_at,
        })
    }

    /// Whether `uri` is one of its redirect URIs, exactly (no normalisation at all).
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// What the operator registers.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub id_token_alg: JwtAlgorithm,
}

/// A client just created (or given a new secret): the secret is in clear here only.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client: Client,
    pub client_secret: Option<String>,
}

/// Checks a redirect URI as registered: absolute, `https` (or `http` on a loopback host, or a
/// private-use scheme for native apps, RFC 8252 §7.1), no fragment.
fn check_uri(field: &'static str, uri: &str) -> Result<(), FieldError> {
    let bad = |why: &str| FieldError {
        field,
        message: format!("{uri:?} {why}"),
    };
    let parsed = url::Url::parse(uri).map_err(|_| bad("is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err(bad("must use https (http only on localhost)")),
        },
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(bad(
            "must use https, http on localhost, or a private-use scheme",
        )),
    }
}

/// Registers a client; returns it with its secret (none for a public client).
pub async fn create(
    db: &DatabaseConnection,
    new: NewClient,
    now: DateTime<Utc>,
) -> Result<Registered, AuthError> {
    let mut errors = Vec::new();
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError {
            field: "name",
            message: "a name of 1–100 characters".to_owned(),
        });
    }
    if new.redirect_uris.is_empty() {
        errors.push(FieldError {
            field: "redirect_uri",
            message: "at least one redirect URI".to_owned(),
        });
    }
    for uri in &new.redirect_uris {
        errors.extend(check_uri("redirect_uri", uri).err());
    }
    for uri in &new.post_logout_redirect_uris {
        errors.extend(check_uri("post_logout_redirect_uri", uri).err());
    }
    if new.id_token_alg == JwtAlgorithm::Hs256 {
        errors.push(FieldError {
            field: "id_token_alg",
            message: "RS256, ES256 or EdDSA".to_owned(),
        });
    }
    if !errors.is_empty() {
        return Err(AuthError::Validation(errors));
    }
    let client_id = random_token()?[..22].to_owned();
    let secret = if new.public {
        None
    } else {
        Some(random_token()?)
    };
    let to_json = |uris: &[String]| {
        serde_json::to_string(uris).map_err(|e| AuthError::internal("storing URIs", e))
    };
    let row = oauth_client::Model {
        client_id: client_id.clone(),
        name,
        secret_hash: secret.as_deref().map(digest),
        redirect_uris: to_json(&new.redirect_uris)?,
        post_logout_redirect_uris: to_json(&new.post_logout_redirect_uris)?,
        id_token_alg: new.id_token_alg.as_str().to_owned(),
        created_at: now,
    };
    oauth_client::Entity::insert(oauth_client::ActiveModel {
        client_id: Set(row.client_id.clone()),
        name: Set(row.name.clone()),
        secret_hash: Set(row.secret_hash.clone()),
        redirect_uris: Set(row.redirect_uris.clone()),
        post_logout_redirect_uris: Set(row.post_logout_redirect_uris.clone()),
        id_token_alg: Set(row.id_token_alg.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    tracing::info!(
        event = "oauth_client_created",
        client_id,
        "OAuth client registered"
    );
    Ok(Registered {
        client: Client::from_row(row)?,
        client_secret: secret,
    })
}

/// Every client, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Client>, AuthError> {
    oauth_client::Entity::find()
        .order_by_asc(oauth_client::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Client::from_row)
        .collect()
}

/// Whether `origin` (as a browser sends it) is the origin of a redirect URI of a public client:
/// the browser apps allowed to call the token endpoint from their pages.
pub async fn is_public_client_origin(
    db: &DatabaseConnection,
    origin: &str,
) -> Result<bool, AuthError> {
    let public = oauth_client::Entity::find()
        .filter(oauth_client::Column::SecretHash.is_null())
        .all(db)
        .await?;
    for row in public {
        let client = Client::from_row(row)?;
        let matches = client.redirect_uris.iter().any(|uri| {
            url::Url::parse(uri)
                .is_ok_and(|u| u.origin().is_tuple() && u.origin().ascii_serialization() == origin)
        });
        if matches {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One client by id.
pub async fn find(
    conn: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<Client>, AuthError> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    oauth_client::Entity::find_by_id(client_id.to_owned())
        .one(conn)
        .await?
        .map(Client::from_row)
        .transpose()
}

/// Deletes a client: its requests, codes and consents go with it (by foreign key), and every
/// grant (refresh token) it holds ends.
pub async fn delete(
    db: &DatabaseConnection,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let txn = storage::begin_write(db).await?;
    let deleted = oauth_client::Entity::delete_by_id(client_id.to_owned())
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted != 1 {
        return Err(AuthError::NotFound);
    }
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(session::Column::ClientId.eq(client_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(
        event = "oauth_client_deleted",
        client_id,
        "OAuth client deleted"
    );
    Ok(())
}

/// Gives a confidential client a new secret; the old one stops working at once.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    client_id: &str,
) -> Result<Registered, AuthError> {
    let client = find(db, client_id).await?.ok_or(AuthError::NotFound)?;
    if !client.confidential {
        return Err(AuthError::Validation(vec![FieldError {
            field: "client_id",
            message: "a public client has no secret".to_owned(),
        }]));
    }
    let secret = random_token()?;
    oauth_client::Entity::update_many()
        .col_expr(
            oauth_client::Column::SecretHash,
            Expr::value(Some(digest(&secret))),
        )
        .filter(oauth_client::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    tracing::info!(
        event = "oauth_client_secret_rotated",
        client_id,
        "OAuth client secret replaced"
    );
    Ok(Registered {
        client,
        client_secret: Some(secret),
    })
}

/// How a client presented itself at the token, revocation or introspection endpoint.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A client authenticated, with the throttle reservation its attempt holds: released by the
/// caller once the request succeeded (a wrong code counts like a wrong secret).
#[derive(Debug)]
pub struct Authenticated {
    pub client: Client,
    pub reservation: Reservation,
}

/// Authenticates a client (`client_secret_basic`, `client_secret_post`, or `none` for a public
/// client). The attempt is counted against the client and the caller's address first, before
/// anything is compared.
pub async fn authenticate(
    auth: &Auth,
    presented: Presented,
    caller: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Authenticated, OAuthError> {
    let client_id = presented.client_id.ok_or(OAuthError::InvalidClient)?;
    let policy = &auth.policy.throttle;
    let limits: Vec<_> = policy
        .username
        .map(|rule| (Key::oauth_client(&client_id), rule))
        .into_iter()
        .chain(
            policy
                .address
                .zip(caller.ip)
                .map(|(rule, ip)| (Key::login_address(ip), rule)),
        )
        .collect();
    let reservation = throttle::reserve(&auth.db, limits, now).await?;
    let client = find(&auth.db, &client_id)
        .await?
        .ok_or(OAuthError::InvalidClient)?;
    let ok = match (&client.secret_hash, &presented.client_secret) {
        (Some(stored), Some(secret)) => digests_match(stored, &digest(secret)),
        (None, None) => true,
        _ => false,
    };
    if !ok {
        tracing::info!(event = "oauth_client_auth_failed", client_id, ip = ?caller.ip, "client authentication failed");
        return Err(OAuthError::InvalidClient);
    }
    // A confidential client proved itself with its secret: what it does next (a code that
    // failed, an expired refresh token) is not guessing, and must not lock out every person who
    // signs in with it. A public client's attempt stays counted until its code is exchanged.
    let reservation = if client.confidential {
        release(auth, &reservation, now).await?;
        Reservation::default()
    } else {
        reservation
    };
    Ok(Authenticated {
        client,
        reservation,
    })
}

/// Gives back a successful attempt's reservation.
pub async fn release(
    auth: &Auth,
    reservation: &Reservation,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if reservation.is_empty() {
        return Ok(());
    }
    let txn = storage::begin_write(&auth.db).await?;
    throttle::release(&txn, reservation, now).await?;
    txn.commit().await?;
    Ok(())
}
