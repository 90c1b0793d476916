//! OpenID Connect provider: registered clients, pending authorization requests, authorization
//! codes, remembered consents and RP-initiated logout requests. A client's grant (its refresh
//! tokens) is a row of `sessions` with `client_id` set, so rotation and reuse detection are the
//! sessions' own; every session also records how and when its person signed in (`amr`,
//! `auth_time`) for ID tokens.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum OauthClients {
    Table,
    ClientId,
    Name,
    /// SHA-256 of the client secret, hex; NULL for a public client.
    SecretHash,
    /// JSON array of exact redirect URIs.
    RedirectUris,
    /// JSON array of exact post-logout redirect URIs.
    PostLogoutRedirectUris,
    IdTokenAlg,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthRequests {
    Table,
    /// SHA-256 of the request id handed to the app, hex.
    Id,
    ClientId,
    RedirectUri,
    Scope,
    State,
    Nonce,
    CodeChallenge,
    Prompt,
    MaxAge,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthCodes {
    Table,
    /// SHA-256 of the code, hex.
    CodeHash,
    ClientId,
    RedirectUri,
    CodeChallenge,
    UserId,
    /// The browser session the person authorized from (`sid`).
    SessionId,
    CredentialEpoch,
    AuthTime,
    Amr,
    Nonce,
    Scope,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    /// The grant (a `sessions` row) the code was exchanged for: revoked if the code comes back.
    GrantId,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthConsents {
    Table,
    UserId,
    ClientId,
    Scope,
    AllowedAt,
    LastUsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthLogoutRequests {
    Table,
    /// SHA-256 of the request id handed to the app, hex.
    Id,
    ClientId,
    PostLogoutRedirectUri,
    State,
    /// The `id_token_hint` verified: the app may sign out without asking.
    Confirmed,
    CreatedAt,
    ExpiresAt,
}

const SESSION_COLUMNS: [&str; 5] = [
    "client_id",
    "scope",
    "amr",
    "auth_time",
    "parent_session_id",
];

fn client_fk(table: impl IntoIden + Clone, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(OauthClients::Table, OauthClients::ClientId)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn user_fk(table: impl IntoIden + Clone, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .col(string_len(OauthClients::ClientId, 64).primary_key())
                    .col(string_len(OauthClients::Name, 100))
                    .col(string_len_null(OauthClients::SecretHash, 64))
                    .col(text(OauthClients::RedirectUris))
                    .col(text(OauthClients::PostLogoutRedirectUris))
                    .col(string_len(OauthClients::IdTokenAlg, 16))
                    .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthRequests::Table)
                    .col(string_len(OauthRequests::Id, 64).primary_key())
                    .col(string_len(OauthRequests::ClientId, 64))
                    .col(text(OauthRequests::RedirectUri))
                    .col(string_len(OauthRequests::Scope, 256))
                    .col(text_null(OauthRequests::State))
                    .col(text_null(OauthRequests::Nonce))
                    .col(string_len(OauthRequests::CodeChallenge, 128))
                    .col(string_len_null(OauthRequests::Prompt, 16))
                    .col(big_integer_null(OauthRequests::MaxAge))
                    .col(timestamp_with_time_zone(OauthRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OauthRequests::ExpiresAt))
                    .foreign_key(&mut client_fk(
                        OauthRequests::Table,
                        OauthRequests::ClientId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(string_len(OauthCodes::CodeHash, 64).primary_key())
                    .col(string_len(OauthCodes::ClientId, 64))
                    .col(text(OauthCodes::RedirectUri))
                    .col(string_len(OauthCodes::CodeChallenge, 128))
                    .col(uuid(OauthCodes::UserId))
                    .col(uuid(OauthCodes::SessionId))
                    .col(integer(OauthCodes::CredentialEpoch))
                    .col(timestamp_with_time_zone(OauthCodes::AuthTime))
                    .col(string_len(OauthCodes::Amr, 64))
                    .col(text_null(OauthCodes::Nonce))
                    .col(string_len(OauthCodes::Scope, 256))
                    .col(timestamp_with_time_zone(OauthCodes::CreatedAt))
                    .col(timestamp_with_time_zone(OauthCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthCodes::UsedAt))
                    .col(uuid_null(OauthCodes::GrantId))
                    .foreign_key(&mut client_fk(OauthCodes::Table, OauthCodes::ClientId))
                    .foreign_key(&mut user_fk(OauthCodes::Table, OauthCodes::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthConsents::Table)
                    .col(uuid(OauthConsents::UserId))
                    .col(string_len(OauthConsents::ClientId, 64))
                    .col(string_len(OauthConsents::Scope, 256))
                    .col(timestamp_with_time_zone(OauthConsents::AllowedAt))
                    .col(timestamp_with_time_zone_null(OauthConsents::LastUsedAt))
                    .primary_key(
                        Index::create()
                            .col(OauthConsents::UserId)
                            .col(OauthConsents::ClientId),
                    )
                    .foreign_key(&mut client_fk(
                        OauthConsents::Table,
                        OauthConsents::ClientId,
                    ))
                    .foreign_key(&mut user_fk(OauthConsents::Table, OauthConsents::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthLogoutRequests::Table)
                    .col(string_len(OauthLogoutRequests::Id, 64).primary_key())
                    .col(string_len_null(OauthLogoutRequests::ClientId, 64))
                    .col(text_null(OauthLogoutRequests::PostLogoutRedirectUri))
                    .col(text_null(OauthLogoutRequests::State))
                    .col(boolean(OauthLogoutRequests::Confirmed))
                    .col(timestamp_with_time_zone(OauthLogoutRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OauthLogoutRequests::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            (
                "idx_oauth_requests_expires_at",
                OauthRequests::Table.into_iden(),
                OauthRequests::ExpiresAt.into_iden(),
            ),
            (
                "idx_oauth_codes_expires_at",
                OauthCodes::Table.into_iden(),
                OauthCodes::ExpiresAt.into_iden(),
            ),
            (
                "idx_oauth_logout_requests_expires_at",
                OauthLogoutRequests::Table.into_iden(),
                OauthLogoutRequests::ExpiresAt.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        // A client's grant is a session: `client_id` (NULL for a browser or API session), the
        // scopes granted, and, for every session, how and when its person signed in.
        for column in [
            string_len_null(Alias::new("client_id"), 64),
            string_len_null(Alias::new("scope"), 256),
            string_len_null(Alias::new("amr"), 64),
            timestamp_with_time_zone_null(Alias::new("auth_time")),
            uuid_null(Alias::new("parent_session_id")),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("sessions"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_client_id")
                    .table(Alias::new("sessions"))
                    .col(Alias::new("client_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_sessions_client_id")
                    .table(Alias::new("sessions"))
                    .to_owned(),
            )
            .await?;
        for column in SESSION_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("sessions"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            OauthLogoutRequests::Table.into_iden(),
            OauthConsents::Table.into_iden(),
            OauthCodes::Table.into_iden(),
            OauthRequests::Table.into_iden(),
            OauthClients::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
