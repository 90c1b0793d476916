use sea_orm::entity::prelude::*;

/// An application registered by the operator (`latchkey clients create`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub name: String,
    /// SHA-256 of the client secret, hex; `None` for a public client.
    pub secret_hash: Option<String>,
    /// JSON array of the exact redirect URIs.
    pub redirect_uris: String,
    /// JSON array of the exact post-logout redirect URIs.
    pub post_logout_redirect_uris: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub id_token_alg: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
