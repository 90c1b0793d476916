use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "throttle_buckets")]
pub struct Model {
    /// What is counted: `user:<digest>`, `ip:<address>`, `device:<id>`, `register:<address>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub level_until: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
