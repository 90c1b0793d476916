use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub generation: i64,
    pub created_at: DateTimeUtc,
    pub last_used_at: DateTimeUtc,
    pub rotated_at: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
    pub absolute_expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The OAuth client this session is a grant to; `None` for a browser or API session.
    pub client_id: Option<String>,
    /// A client grant's scopes, space-separated.
    pub scope: Option<String>,
    /// How its person signed in (`amr` values, space-separated).
    pub amr: Option<String>,
    /// When its person signed in (a client grant: at the browser session it came from).
    pub auth_time: Option<DateTimeUtc>,
    /// A client grant: the browser session it was authorized from (the ID token's `sid`).
    pub parent_session_id: Option<Uuid>,
    /// When its person last re-entered their password (and second factor) for the admin API.
    pub stepped_up_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_many = "super::refresh_token::Entity")]
    RefreshTokens,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::refresh_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
