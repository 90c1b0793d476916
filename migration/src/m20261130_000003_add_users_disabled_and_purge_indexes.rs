use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns the purge filters on, each with its own index, so a purge batch never scans
/// the whole table.
const PURGE_INDEXES: [(&str, &str, &str); 4] = [
    ("idx_sessions_expires_at", "sessions", "expires_at"),
    (
        "idx_sessions_absolute_expires_at",
        "sessions",
        "absolute_expires_at",
    ),
    ("idx_sessions_revoked_at", "sessions", "revoked_at"),
    (
        "idx_refresh_tokens_created_at",
        "refresh_tokens",
        "created_at",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Set by an operator (`latchkey admin users disable`): the account cannot sign in.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Alias::new("disabled_at")))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in PURGE_INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in PURGE_INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Alias::new("disabled_at"))
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
