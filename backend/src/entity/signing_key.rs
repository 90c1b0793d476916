use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `EdDSA`, `ES256` or `HS256`.
    pub algorithm: String,
    /// The public JWK as JSON (none for HS256, which publishes nothing).
    pub public_jwk: Option<String>,
    /// The private key, sealed (see `auth::secrets::Secrets::seal`): never in clear.
    pub private_key: String,
    pub created_at: DateTimeUtc,
    /// When it starts signing; published from `created_at`.
    pub activates_at: DateTimeUtc,
    /// Retired by an operator: over at once.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
