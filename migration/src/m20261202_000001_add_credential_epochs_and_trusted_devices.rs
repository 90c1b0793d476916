//! Account integrity: a credential epoch that every grant is checked against, confusable
//! skeletons of usernames, and device trust kept on the server.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::Statement};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TrustedDevices {
    Table,
    Id,
    UserId,
    TokenHash,
    CredentialEpoch,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    UserAgent,
    Ip,
}

const SKELETON_INDEX: &str = "idx_users_username_skeleton";
const DEVICES_BY_USER: &str = "idx_trusted_devices_user_id_last_used_at";
const DEVICES_BY_EXPIRY: &str = "idx_trusted_devices_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Bumped by every change that must end what was granted before it (a password change
        // or reset, disabling, a factor reset): challenges and device trust carry the epoch
        // they were granted at, and sign-ins re-check it in the transaction that grants.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(integer(Alias::new("credential_epoch")).default(0))
                    .to_owned(),
            )
            .await?;
        // Unique among accounts made from now on; accounts that already collide keep NULL.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len_null(Alias::new("username_skeleton"), 128))
                    .to_owned(),
            )
            .await?;
        backfill_skeletons(manager).await?;
        manager
            .create_index(
                Index::create()
                    .name(SKELETON_INDEX)
                    .table(Users::Table)
                    .col(Alias::new("username_skeleton"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("auth_challenges"))
                    .add_column(integer_null(Alias::new("credential_epoch")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrustedDevices::Table)
                    .col(pk_uuid(TrustedDevices::Id))
                    .col(uuid(TrustedDevices::UserId))
                    // SHA-256 of the device token, hex; the token itself is never stored.
                    .col(string_len_uniq(TrustedDevices::TokenHash, 64))
                    .col(integer(TrustedDevices::CredentialEpoch))
                    .col(timestamp_with_time_zone(TrustedDevices::CreatedAt))
                    .col(timestamp_with_time_zone(TrustedDevices::LastUsedAt))
                    .col(timestamp_with_time_zone(TrustedDevices::ExpiresAt))
                    .col(string_len_null(TrustedDevices::UserAgent, 256))
                    .col(string_len_null(TrustedDevices::Ip, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_trusted_devices_user_id")
                            .from(TrustedDevices::Table, TrustedDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DEVICES_BY_USER)
                    .table(TrustedDevices::Table)
                    .col(TrustedDevices::UserId)
                    .col(TrustedDevices::LastUsedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DEVICES_BY_EXPIRY)
                    .table(TrustedDevices::Table)
                    .col(TrustedDevices::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrustedDevices::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("auth_challenges"))
                    .drop_column(Alias::new("credential_epoch"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(SKELETON_INDEX)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for column in ["username_skeleton", "credential_epoch"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Gives each existing account its skeleton, oldest first; a later account whose skeleton an
/// earlier one already has keeps NULL (it stays usable, and no new look-alike can join it).
async fn backfill_skeletons(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, username FROM users ORDER BY created_at, id",
        ))
        .await?;
    let mut taken = std::collections::HashSet::new();
    for row in rows {
        let id: sea_orm_migration::sea_orm::prelude::Uuid = row.try_get("", "id")?;
        let username: String = row.try_get("", "username")?;
        let skeleton = crate::usernames::skeleton(&username);
        if !taken.insert(skeleton.clone()) {
            continue;
        }
        let update = Query::update()
            .table(Users::Table)
            .value(Alias::new("username_skeleton"), skeleton)
            .and_where(Expr::col(Users::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
