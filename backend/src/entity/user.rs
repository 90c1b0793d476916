use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    #[sea_orm(unique)]
    pub username_canonical: String,
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set by an operator: the account cannot sign in.
    pub disabled_at: Option<DateTimeUtc>,
    /// Moves on with every change that must end what was granted before it (a password
    /// change or reset, disabling, a factor reset): see `auth::standing`.
    pub credential_epoch: i32,
    /// The name's confusable skeleton (Unicode TS #39), unique: look-alike names are refused.
    /// NULL only for accounts that already collided when skeletons were introduced.
    pub username_skeleton: Option<String>,
    /// For recovery and notices only (never an identifier), as the owner typed it.
    pub email: Option<String>,
    /// Set when a link sent to `email` was followed; only a verified address gets a reset link.
    pub email_verified_at: Option<DateTimeUtc>,
    /// HMAC-SHA256 of the recovery key (see `auth::recovery`), hex.
    pub recovery_key_hash: Option<String>,
    pub recovery_key_created_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Sessions,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
