//! Sending mail over SMTP (lettre), and the loop that delivers the outbox.
//!
//! Nothing here decides what to send: `auth` writes messages to the outbox in the transaction
//! of the change they tell about (`auth::outbox`), so a message exists exactly when its change
//! committed. This module delivers them: every instance runs the loop, each message is leased
//! to one sender at a time, and a failure is retried with a growing delay, so a restart or an
//! SMTP outage loses nothing.

use std::time::Duration;

use chrono::Utc;
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use sea_orm::DatabaseConnection;

use crate::auth::{
    outbox::{self, Claimed, Message},
    secrets::Secrets,
};

/// How to reach the SMTP server (`SMTP_URL`, `MAIL_FROM`).
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
    /// `smtps://user:pass@host:465`. Holds a password: never logged.
    pub smtp_url: String,
    /// The sender, e.g. `Latchkey <no-reply@example.com>`.
    pub from: Mailbox,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &crate::storage::redact_url(&self.smtp_url))
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Why a message was not sent.
#[derive(Debug)]
pub struct SendError {
    /// The server refused it for good (a 5xx: a bad address, say): retrying cannot help.
    pub permanent: bool,
    /// A few words for the outbox row and the log: never an address or content.
    pub reason: String,
}

/// An SMTP client for one server and sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// How long one SMTP conversation may take before it counts as a failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            transport,
            from: settings.from.clone(),
        })
    }

    /// Sends one message (plain text and HTML alternatives).
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let to: Mailbox = message.to.parse().map_err(|_| SendError {
            permanent: true,
            reason: "the recipient is not a valid address".to_owned(),
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|e| SendError {
                permanent: true,
                reason: format!("the message cannot be built: {e}"),
            })?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                reason: describe(&e),
            }),
        }
    }
}

/// What went wrong, without the server's text (it may echo an address).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("the SMTP server answered {code}"),
        None if e.is_timeout() => "the SMTP server did not answer in time".to_owned(),
        None => "the SMTP server could not be reached".to_owned(),
    }
}

/// How long a sender holds the messages it claimed.
const LEASE: Duration = Duration::from_secs(120);
const BATCH: u64 = 20;
/// How often the outbox is looked at when it had nothing due.
const POLL: Duration = Duration::from_secs(1);

/// Delivers the outbox until the task is aborted: claims what is due, sends it, and marks each
/// message sent, or due again later (or given up, after a permanent refusal or a day of tries).
pub async fn deliver_forever(db: DatabaseConnection, secrets: Secrets, mailer: Mailer) {
    loop {
        let claimed = match outbox::claim_due(&db, &secrets, LEASE, BATCH, Utc::now()).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "reading the mail outbox failed; retrying");
                tokio::time::sleep(POLL * 5).await;
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        for message in claimed {
            deliver(&db, &mailer, message).await;
        }
    }
}

async fn deliver(db: &DatabaseConnection, mailer: &Mailer, claimed: Claimed) {
    let result = mailer.send(&claimed.message).await;
    let now = Utc::now();
    let recorded = match &result {
        Ok(()) => outbox::delivered(db, &claimed, now).await,
        Err(e) if e.permanent => outbox::give_up(db, &claimed, &e.reason, now).await,
        Err(e) => outbox::retry_later(db, &claimed, &e.reason, now).await,
    };
    match (&result, recorded) {
        (Ok(()), Ok(())) => {
            metrics::counter!("latchkey_mail_total", "outcome" => "sent").increment(1);
            tracing::info!(event = "mail_sent", kind = claimed.kind, id = %claimed.id, "mail sent");
        }
        (Err(e), Ok(())) => {
            let outcome = if e.permanent { "refused" } else { "retry" };
            metrics::counter!("latchkey_mail_total", "outcome" => outcome).increment(1);
            tracing::warn!(event = "mail_failed", kind = claimed.kind, id = %claimed.id, attempts = claimed.attempts, permanent = e.permanent, reason = %e.reason, "mail not sent");
        }
        // The lease runs out and another attempt comes; at worst a message goes out twice.
        (_, Err(e)) => tracing::warn!(error = %e, id = %claimed.id, "recording a delivery failed"),
    }
}
