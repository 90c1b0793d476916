//! SeaORM entities, mirroring the tables the `migration` crate creates. They stay inside the
//! storage layer: nothing here goes on the wire.

pub mod refresh_token;
pub mod session;
pub mod user;
