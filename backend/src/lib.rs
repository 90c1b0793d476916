//! Latchkey: a self-hostable username/password authentication API.

pub mod api;
pub mod auth;
pub mod changes;
pub mod cli;
pub mod config;
pub mod domain;
pub mod entity;
pub mod http_server;
pub mod mail;
pub mod startup;
pub mod storage;
pub mod telemetry;
