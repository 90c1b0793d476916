use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A user's security events, for their own review: never a secret, only what happened,
        // when, from where. Pruned after ACTIVITY_RETENTION_DAYS.
        manager
            .create_table(
                Table::create()
                    .table(ActivityEvents::Table)
                    .if_not_exists()
                    .col(pk_uuid(ActivityEvents::Id))
                    .col(uuid(ActivityEvents::UserId))
                    .col(string_len(ActivityEvents::Kind, 40))
                    .col(timestamp_with_time_zone(ActivityEvents::At))
                    .col(string_len_null(ActivityEvents::Ip, 64))
                    .col(string_len_null(ActivityEvents::UserAgent, 256))
                    // Not a foreign key: the event outlives the session row it names.
                    .col(uuid_null(ActivityEvents::SessionId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_activity_events_user_id")
                            .from(ActivityEvents::Table, ActivityEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_events_user_id_at")
                    .table(ActivityEvents::Table)
                    .col(ActivityEvents::UserId)
                    .col(ActivityEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_events_at")
                    .table(ActivityEvents::Table)
                    .col(ActivityEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActivityEvents::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum ActivityEvents {
    Table,
    Id,
    UserId,
    Kind,
    At,
    Ip,
    UserAgent,
    SessionId,
}
