//! SeaORM entities, mirroring the tables the `migration` crate creates. They stay inside the
//! storage layer: nothing here goes on the wire.

pub mod account_token;
pub mod activity_event;
pub mod audit_entry;
pub mod auth_challenge;
pub mod change_counter;
pub mod mail_outbox;
pub mod oauth_client;
pub mod oauth_code;
pub mod oauth_consent;
pub mod oauth_logout_request;
pub mod oauth_request;
pub mod passkey;
pub mod recovery_code;
pub mod refresh_token;
pub mod role;
pub mod session;
pub mod signing_key;
pub mod throttle_bucket;
pub mod totp_factor;
pub mod trusted_device;
pub mod user;
pub mod user_role;
