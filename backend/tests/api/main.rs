//! Integration tests: each boots the real application on port 0 with a fresh database and
//! drives it over HTTP. `LATCHKEY_TEST_DB=postgres` runs the same tests on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin;
mod cli;
mod cors_and_headers;
mod health_and_spec;
mod helpers;
mod instances;
mod integrity;
mod jwt_attacks;
mod key_changes;
mod keys;
mod login;
mod logout;
mod mail;
mod maintenance;
mod malformed_requests;
mod metrics;
mod mfa;
mod oidc;
mod profile;
mod recovery;
mod refresh;
mod refusals;
mod register;
mod slow_clients;
mod smtp_sink;
mod throttle;
mod tokens;
mod unavailable;
