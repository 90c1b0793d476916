//! Roles and the operator's audit trail: `roles` (the built-in `admin` and any an operator
//! creates), `user_roles` (who holds which), `audit_log` (every admin action: who, what, to
//! whom, when, from where), and `sessions.stepped_up_at` (when the session's person last
//! re-entered their password and second factor for the admin API).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Name,
    Description,
    BuiltIn,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserRoles {
    Table,
    UserId,
    Role,
    GrantedAt,
    /// The administrator who granted it; NULL for the command line (or a deleted account).
    GrantedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    /// The acting account; NULL for the command line.
    ActorId,
    /// The actor as shown: a username, or `cli`.
    Actor,
    Action,
    /// No foreign keys: the record outlives the accounts it names.
    TargetId,
    Target,
    /// JSON object; never holds a password, token, link or hash.
    Detail,
    Ip,
}

const STEPPED_UP_AT: &str = "stepped_up_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(string_len(Roles::Name, 32).primary_key())
                    .col(string_len(Roles::Description, 256))
                    .col(boolean(Roles::BuiltIn))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A literal timestamp in the text form the server writes (RFC 3339, `+00:00`), which
        // PostgreSQL also reads as a timestamptz.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO roles (name, description, built_in, created_at) VALUES \
                 ('admin', 'Uses the admin API: accounts, roles and the audit log.', TRUE, \
                 '2026-12-03T00:00:00+00:00')",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(uuid(UserRoles::UserId))
                    .col(string_len(UserRoles::Role, 32))
                    .col(timestamp_with_time_zone(UserRoles::GrantedAt))
                    .col(uuid_null(UserRoles::GrantedBy))
                    .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::Role))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::Role)
                            .to(Roles::Table, Roles::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserRoles::Table, UserRoles::GrantedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_roles_role")
                    .table(UserRoles::Table)
                    .col(UserRoles::Role)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Actor, 64))
                    .col(string_len(AuditLog::Action, 64))
                    .col(uuid_null(AuditLog::TargetId))
                    .col(string_len_null(AuditLog::Target, 64))
                    .col(text(AuditLog::Detail))
                    .col(string_len_null(AuditLog::Ip, 64))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_log_at", AuditLog::At),
            ("idx_audit_log_actor_id", AuditLog::ActorId),
            ("idx_audit_log_target_id", AuditLog::TargetId),
            ("idx_audit_log_action", AuditLog::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sessions"))
                    .add_column(timestamp_with_time_zone_null(Alias::new(STEPPED_UP_AT)))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sessions"))
                    .drop_column(Alias::new(STEPPED_UP_AT))
                    .to_owned(),
            )
            .await?;
        for table in [
            AuditLog::Table.into_iden(),
            UserRoles::Table.into_iden(),
            Roles::Table.into_iden(),
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
