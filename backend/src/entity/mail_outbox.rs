use sea_orm::entity::prelude::*;

/// One message waiting to be sent, being sent, or sent (see `auth::outbox`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The message as JSON, sealed; cleared once sent or given up.
    pub payload: Option<String>,
    /// What the message is about (`password_reset`, `sign_in_new_device` …), for logs.
    pub kind: String,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    pub attempts: i32,
    /// A sender holds the message until then (one sender per message, across instances).
    pub locked_until: Option<DateTimeUtc>,
    pub lease_id: Option<Uuid>,
    pub sent_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    /// Why the last attempt failed, in a few words (no addresses, no content).
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
