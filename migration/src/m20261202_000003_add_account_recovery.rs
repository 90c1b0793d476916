//! Account recovery: an optional, verified email address; a recovery key; single-use tokens
//! for resetting a password and verifying an address; and the outbox mail goes through.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    /// SHA-256 of the token, hex; the token itself is never stored.
    Id,
    UserId,
    Purpose,
    /// The address a verification token verifies.
    Email,
    CredentialEpoch,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    /// The message (recipient, subject, bodies) as JSON, sealed at rest.
    Payload,
    Kind,
    CreatedAt,
    NextAttemptAt,
    Attempts,
    LockedUntil,
    LeaseId,
    SentAt,
    FailedAt,
    LastError,
}

const USER_COLUMNS: [&str; 4] = [
    "email",
    "email_verified_at",
    "recovery_key_hash",
    "recovery_key_created_at",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len_null(Alias::new("email"), 254),
            timestamp_with_time_zone_null(Alias::new("email_verified_at")),
            // A keyed hash (HMAC-SHA256) of the recovery key, hex.
            string_len_null(Alias::new("recovery_key_hash"), 64),
            timestamp_with_time_zone_null(Alias::new("recovery_key_created_at")),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(string_len(AccountTokens::Id, 64).primary_key())
                    .col(uuid(AccountTokens::UserId))
                    .col(string_len(AccountTokens::Purpose, 32))
                    .col(string_len_null(AccountTokens::Email, 254))
                    .col(integer(AccountTokens::CredentialEpoch))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_tokens_user_id")
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_account_tokens_user_id", AccountTokens::UserId),
            ("idx_account_tokens_expires_at", AccountTokens::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AccountTokens::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(pk_uuid(MailOutbox::Id))
                    .col(text_null(MailOutbox::Payload))
                    .col(string_len(MailOutbox::Kind, 40))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                    .col(uuid_null(MailOutbox::LeaseId))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::FailedAt))
                    .col(string_len_null(MailOutbox::LastError, 200))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_mail_outbox_next_attempt_at", MailOutbox::NextAttemptAt),
            ("idx_mail_outbox_created_at", MailOutbox::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MailOutbox::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await?;
        for column in USER_COLUMNS {
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
