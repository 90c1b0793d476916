use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// The acting account; `None` for the command line.
    pub actor_id: Option<Uuid>,
    /// A username, or `cli`.
    pub actor: String,
    /// `auth::audit::Action`, snake_case.
    pub action: String,
    pub target_id: Option<Uuid>,
    pub target: Option<String>,
    /// A JSON object without secrets.
    pub detail: String,
    pub ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
