//! Latchkey's database schema, as ordered migrations that run on PostgreSQL and SQLite.
//!
//! The server applies pending migrations at startup; `cargo run -p migration -- up|down|status`
//! drives them by hand.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_users;
mod m20261129_000002_create_sessions;
mod m20261130_000001_create_throttle_buckets;
mod m20261130_000002_create_activity_events;
mod m20261130_000003_add_users_disabled_and_purge_indexes;
mod m20261130_000004_create_signing_keys;
mod m20261130_000005_create_second_factors;
mod m20261202_000001_add_credential_epochs_and_trusted_devices;
mod m20261202_000002_create_change_counters;
mod m20261202_000003_add_account_recovery;
mod m20261203_000001_create_oauth;
mod m20261203_000002_create_roles_and_audit_log;
mod m20261203_000003_add_activity_event_reasons;
pub mod usernames;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_users::Migration),
            Box::new(m20261129_000002_create_sessions::Migration),
            Box::new(m20261130_000001_create_throttle_buckets::Migration),
            Box::new(m20261130_000002_create_activity_events::Migration),
            Box::new(m20261130_000003_add_users_disabled_and_purge_indexes::Migration),
            Box::new(m20261130_000004_create_signing_keys::Migration),
            Box::new(m20261130_000005_create_second_factors::Migration),
            Box::new(m20261202_000001_add_credential_epochs_and_trusted_devices::Migration),
            Box::new(m20261202_000002_create_change_counters::Migration),
            Box::new(m20261202_000003_add_account_recovery::Migration),
            Box::new(m20261203_000001_create_oauth::Migration),
            Box::new(m20261203_000002_create_roles_and_audit_log::Migration),
            Box::new(m20261203_000003_add_activity_event_reasons::Migration),
        ]
    }
}
