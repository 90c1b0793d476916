use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_challenges")]
pub struct Model {
    /// SHA-256 of the token the client holds, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: Option<Uuid>,
    /// `auth::challenges::Kind`, snake_case.
    pub kind: String,
    /// Ceremony state (JSON), if the kind needs any.
    pub state: Option<String>,
    /// Answers checked so far (each takes its slot before it is checked).
    pub failures: i32,
    /// The user's credential epoch when it was created; it dies when the epoch moves.
    pub credential_epoch: Option<i32>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
