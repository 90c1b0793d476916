use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per kind of shared state (`signing_keys`), bumped in the same transaction as
        // every change to it. Instances poll it with a primary-key read and reload only when it
        // moved (SQLite; PostgreSQL also notifies). See backend/src/changes.rs.
        manager
            .create_table(
                Table::create()
                    .table(ChangeCounters::Table)
                    .if_not_exists()
                    .col(string_len(ChangeCounters::Name, 64).primary_key())
                    .col(big_integer(ChangeCounters::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChangeCounters::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum ChangeCounters {
    Table,
    Name,
    Value,
}
