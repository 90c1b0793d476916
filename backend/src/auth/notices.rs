//! What Latchkey tells a person by mail: the links it sends (verify an address, reset a
//! password), and a short notice of every change that matters to an account's safety — what
//! happened, when, from which device and address, and what to do if it was not them.
//!
//! Notices go only to a verified address, and are written to the outbox inside the transaction
//! of the change (see `outbox`): no change goes untold, and no notice tells of a change that
//! did not happen. With mail off (no `SMTP_URL`), nothing is written.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait as _};
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo,
    outbox::{self, Message},
    secrets::Secrets,
};
use crate::{domain::describe_device, entity::user};

/// Where links point and what the service calls itself (`APP_URL`, `MFA_ISSUER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPolicy {
    /// The app's base URL, without a trailing slash.
    pub app_url: String,
    pub service: String,
}

impl MailPolicy {
    pub fn new(app_url: &str, service: &str) -> Self {
        Self {
            app_url: app_url.trim_end_matches('/').to_owned(),
            service: service.to_owned(),
        }
    }

    /// A page of the app, with a token in the fragment: a fragment never reaches a server, so
    /// the token stays out of every access log on the way.
    pub fn link(&self, page: &str, token: &str) -> String {
        format!("{}/{page}#token={token}", self.app_url)
    }

    fn page(&self, page: &str) -> String {
        format!("{}/{page}", self.app_url)
    }
}

/// One message to a person.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// To a new address: follow the link to confirm it.
    VerifyAddress {
        link: &'a str,
        valid_for: Duration,
    },
    /// A password reset link, asked for on the sign-in page or handed out by an operator.
    ResetLink {
        link: &'a str,
        valid_for: Duration,
    },
    AddressVerified,
    /// To the old address, when another one replaces it.
    AddressChanged,
    AddressRemoved,
    PasswordChanged,
    PasswordReset,
    SecondFactorOn,
    SecondFactorOff,
    RecoveryCodesReplaced,
    RecoveryKeyCreated,
    PasskeyAdded,
    PasskeyRemoved,
    /// An operator removed every second factor.
    FactorsReset,
    /// A sign-in from a browser or client the account has not trusted before.
    NewDevice,
}

impl Notice<'_> {
    /// Names the message in the outbox and the logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::VerifyAddress { .. } => "verify_address",
            Self::ResetLink { .. } => "reset_link",
            Self::AddressVerified => "address_verified",
            Self::AddressChanged => "address_changed",
            Self::AddressRemoved => "address_removed",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::SecondFactorOn => "second_factor_on",
            Self::SecondFactorOff => "second_factor_off",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::RecoveryKeyCreated => "recovery_key_created",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::FactorsReset => "factors_reset",
            Self::NewDevice => "new_device",
        }
    }

    /// The subject line and what happened, in one sentence each.
    fn headline(&self, service: &str) -> (String, &'static str) {
        let (subject, what) = match self {
            Self::VerifyAddress { .. } => (
                "Confirm your email address",
                "This address was added to your account for password resets and security notices.",
            ),
            Self::ResetLink { .. } => (
                "Reset your password",
                "Someone asked to reset the password of your account.",
            ),
            Self::AddressVerified => (
                "Your email address is confirmed",
                "This address is now confirmed: password resets and security notices will come here.",
            ),
            Self::AddressChanged => (
                "Your email address was changed",
                "Another email address replaced this one on your account. Notices and reset links will no longer come here.",
            ),
            Self::AddressRemoved => (
                "Your email address was removed",
                "This address was removed from your account. Notices and reset links will no longer come here.",
            ),
            Self::PasswordChanged => (
                "Your password was changed",
                "The password of your account was changed. Every other session was signed out.",
            ),
            Self::PasswordReset => (
                "Your password was reset",
                "The password of your account was reset. Every session was signed out.",
            ),
            Self::SecondFactorOn => (
                "Two-factor authentication is on",
                "An authenticator app was set up: signing in now needs a code from it.",
            ),
            Self::SecondFactorOff => (
                "Two-factor authentication is off",
                "The authenticator app was removed from your account: signing in needs only the password now.",
            ),
            Self::RecoveryCodesReplaced => (
                "New recovery codes were made",
                "Your recovery codes were replaced; the old ones no longer work.",
            ),
            Self::RecoveryKeyCreated => (
                "A new recovery key was made",
                "A new recovery key was made for your account; any earlier one no longer works.",
            ),
            Self::PasskeyAdded => (
                "A passkey was added",
                "A passkey was added to your account.",
            ),
            Self::PasskeyRemoved => (
                "A passkey was removed",
                "A passkey was removed from your account.",
            ),
            Self::FactorsReset => (
                "Your second factors were removed",
                "An administrator removed the authenticator app, the recovery codes and the passkeys of your account.",
            ),
            Self::NewDevice => (
                "A sign-in from a new device",
                "Your account was signed in to from a device it had not seen before.",
            ),
        };
        (format!("{service}: {subject}"), what)
    }

    /// The message for `username`, about something that happened at `when` from `client`.
    pub fn compose(
        &self,
        policy: &MailPolicy,
        to: &str,
        username: &str,
        when: DateTime<Utc>,
        client: Option<&ClientInfo>,
    ) -> Message {
        let (subject, what) = self.headline(&policy.service);
        let mut paragraphs: Vec<Paragraph> = vec![
            Paragraph::Text(format!("Hello {username},")),
            Paragraph::Text(what.to_owned()),
        ];
        let at = when.format("%-d %B %Y at %H:%M UTC").to_string();
        let from = client.map(|client| {
            let device = describe_device(client.user_agent.as_deref());
            match client.ip {
                Some(ip) => format!("{device} ({ip})"),
                None => device,
            }
        });
        paragraphs.push(Paragraph::Text(match from {
            Some(from) => format!("When: {at}. From: {from}."),
            None => format!("When: {at}."),
        }));
        match self {
            Self::VerifyAddress { link, valid_for } => {
                paragraphs.push(Paragraph::Link {
                    before: "Confirm it:".to_owned(),
                    url: (*link).to_owned(),
                });
                paragraphs.push(Paragraph::Text(format!(
                    "The link works once, for {}. If you did not add this address, ignore this message: nothing changes until the link is followed.",
                    span(*valid_for)
                )));
            }
            Self::ResetLink { link, valid_for } => {
                paragraphs.push(Paragraph::Link {
                    before: "Choose a new password:".to_owned(),
                    url: (*link).to_owned(),
                });
                paragraphs.push(Paragraph::Text(format!(
                    "The link works once, for {}. It does not sign you in: you sign in with the new password afterwards. If you did not ask for it, ignore this message: your password stays as it is.",
                    span(*valid_for)
                )));
            }
            Self::AddressVerified => paragraphs.push(Paragraph::Text(
                "If you did not do this, remove the address from your account.".to_owned(),
            )),
            _ => {
                paragraphs.push(Paragraph::Text(
                    "If this was you, there is nothing to do.".to_owned(),
                ));
                paragraphs.push(Paragraph::Link {
                    before: "If it was not, reset your password now and review your devices, sessions and second factors:".to_owned(),
                    url: policy.page("forgot-password"),
                });
                paragraphs.push(Paragraph::Link {
                    before: "Your account:".to_owned(),
                    url: policy.page("account"),
                });
            }
        }
        paragraphs.push(Paragraph::Text(format!(
            "This message was sent by {} to the address confirmed on your account.",
            policy.service
        )));
        Message {
            to: to.to_owned(),
            subject,
            text: paragraphs
                .iter()
                .map(Paragraph::text)
                .collect::<Vec<_>>()
                .join("\n\n"),
            html: format!(
                "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">{}</body></html>",
                paragraphs.iter().map(Paragraph::html).collect::<String>()
            ),
        }
    }
}

/// "30 minutes", "1 hour", "24 hours".
fn span(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    match minutes {
        0..=119 => format!("{minutes} minutes"),
        _ if minutes.is_multiple_of(60) => format!("{} hours", minutes / 60),
        _ => format!("{minutes} minutes"),
    }
}

enum Paragraph {
    Text(String),
    Link { before: String, url: String },
}

impl Paragraph {
    fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Link { before, url } => format!("{before}\n{url}"),
        }
    }

    fn html(&self) -> String {
        match self {
            Self::Text(text) => format!("<p>{}</p>", escape(text)),
            Self::Link { before, url } => format!(
                "<p>{}<br><a href=\"{url}\">{url}</a></p>",
                escape(before),
                url = escape(url)
            ),
        }
    }
}

/// HTML-escapes text (a username, a device description, an address).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What sending a notice takes: where links point, and the key that seals the outbox. `None`
/// policy: mail is off, and nothing is written.
#[derive(Clone, Copy)]
pub struct Post<'a> {
    pub policy: Option<&'a MailPolicy>,
    pub secrets: &'a Secrets,
}

impl Auth {
    pub fn post(&self) -> Post<'_> {
        Post {
            policy: self.mail.as_ref(),
            secrets: &self.secrets,
        }
    }
}

/// Tells the owner of `user_id`, at their verified address if they have one, inside `txn`.
/// Nothing happens with mail off or without a verified address.
pub async fn tell_owner(
    post: Post<'_>,
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    notice: Notice<'_>,
    client: Option<&ClientInfo>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let Some(policy) = post.policy else {
        return Ok(());
    };
    let Some(account) = user::Entity::find_by_id(user_id).one(txn).await? else {
        return Ok(());
    };
    let (Some(address), Some(_)) = (&account.email, account.email_verified_at) else {
        return Ok(());
    };
    let message = notice.compose(policy, address, &account.username, now, client);
    outbox::enqueue(txn, post.secrets, notice.kind(), &message, now).await?;
    Ok(())
}

/// Sends `notice` to `address` (not necessarily the account's verified one: a link to verify a
/// new address, a notice to the old one), inside `txn`.
pub async fn tell_address(
    post: Post<'_>,
    txn: &impl ConnectionTrait,
    address: &str,
    username: &str,
    notice: Notice<'_>,
    client: Option<&ClientInfo>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let Some(policy) = post.policy else {
        return Ok(());
    };
    let message = notice.compose(policy, address, username, now, client);
    outbox::enqueue(txn, post.secrets, notice.kind(), &message, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> MailPolicy {
        MailPolicy::new("https://app.example.com/", "Latchkey")
    }

    #[test]
    fn a_notice_says_what_when_from_where_and_what_to_do() {
        let client = ClientInfo::new(
            Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            Some("203.0.113.7".parse().unwrap()),
        );
        let when = DateTime::from_timestamp(1_796_000_000, 0).unwrap();
        let message = Notice::PasswordChanged.compose(
            &policy(),
            "a@example.com",
            "alice",
            when,
            Some(&client),
        );
        assert_eq!(message.subject, "Latchkey: Your password was changed");
        assert!(message.text.contains("Hello alice,"));
        assert!(message.text.contains("UTC"));
        assert!(message.text.contains("Firefox"));
        assert!(message.text.contains("203.0.113.7"));
        assert!(
            message
                .text
                .contains("https://app.example.com/forgot-password")
        );
        assert!(
            message
                .html
                .contains("<a href=\"https://app.example.com/account\">")
        );
    }

    #[test]
    fn links_carry_their_token_in_the_fragment_and_html_is_escaped() {
        let link = policy().link("reset-password", "tok_123");
        assert_eq!(link, "https://app.example.com/reset-password#token=tok_123");
        let message = Notice::ResetLink {
            link: &link,
            valid_for: Duration::from_secs(1800),
        }
        .compose(&policy(), "a@example.com", "<b>al&ce</b>", Utc::now(), None);
        assert!(message.text.contains(&link));
        assert!(message.text.contains("30 minutes"));
        assert!(message.html.contains("&lt;b&gt;al&amp;ce&lt;/b&gt;"));
        assert!(!message.html.contains("<b>al"));
    }
}
