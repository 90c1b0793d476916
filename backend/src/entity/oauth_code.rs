use sea_orm::entity::prelude::*;

/// An authorization code: single use, bound to its client, redirect URI and PKCE challenge.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    /// SHA-256 of the code, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub user_id: Uuid,
    /// The browser session the person authorized from.
    pub session_id: Uuid,
    pub credential_epoch: i32,
    pub auth_time: DateTimeUtc,
    /// Space-separated `amr` values.
    pub amr: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// The grant the code was exchanged for.
    pub grant_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
