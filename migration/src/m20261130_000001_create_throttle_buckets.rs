use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One small row per throttled key (a username digest, an address, a device), shared by
        // every instance. Two instants encode the state; see backend/src/auth/throttle.rs.
        manager
            .create_table(
                Table::create()
                    .table(ThrottleBuckets::Table)
                    .if_not_exists()
                    .col(string_len(ThrottleBuckets::Key, 64).primary_key())
                    .col(timestamp_with_time_zone(ThrottleBuckets::LevelUntil))
                    .col(timestamp_with_time_zone_null(ThrottleBuckets::LockedUntil))
                    // The later of the two: after it the row counts nothing and is purged.
                    .col(timestamp_with_time_zone(ThrottleBuckets::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttle_buckets_expires_at")
                    .table(ThrottleBuckets::Table)
                    .col(ThrottleBuckets::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ThrottleBuckets::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum ThrottleBuckets {
    Table,
    Key,
    LevelUntil,
    LockedUntil,
    ExpiresAt,
}
