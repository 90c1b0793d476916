use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_counters")]
pub struct Model {
    /// The kind of shared state, e.g. `signing_keys`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Bumped by every change; only "it moved" means anything.
    pub value: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
