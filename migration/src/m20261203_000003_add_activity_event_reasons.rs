//! An administrator's reason on the events of the account it concerns (`activity_events.reason`),
//! so the person reads why their account was disabled in their own activity.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActivityEvents {
    Table,
    /// Free text an administrator gave (at most 500 characters); NULL for every other event.
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ActivityEvents::Table)
                    .add_column(string_len_null(ActivityEvents::Reason, 2000))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ActivityEvents::Table)
                    .drop_column(ActivityEvents::Reason)
                    .to_owned(),
            )
            .await
    }
}
