//! Wire types that several areas of the API share: the user, a session, a plain
//! acknowledgement, the ways to give a second factor, and the step-up answer that sensitive
//! changes need.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::text::{LoginPassword, OneTimeCode, RecoveryCodeText, Text};
use crate::{
    auth::{
        AuthError, Identity,
        second_factor::{Code, StepUpAnswer},
        sessions::IssuedSession,
    },
    domain::Password,
};

/// A user account as others may see it.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(rename = "User")]
pub struct UserResponse {
    pub id: Uuid,
    /// As typed at registration.
    pub username: String,
    pub created_at: DateTime<Utc>,
}

impl From<Identity> for UserResponse {
    fn from(user: Identity) -> Self {
        Self {
            id: user.id,
            username: user.username,
            created_at: user.created_at,
        }
    }
}

/// A signed-in session. The tokens themselves travel only in HttpOnly cookies.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Session")]
pub struct SessionResponse {
    pub user: UserResponse,
    /// The roles the signed-in person holds (e.g. `admin`), read from the database when this
    /// session's access token was issued: the same list as the token's `roles` claim and
    /// `GET /profile`, so an app can show "Admin" at once after signing in.
    pub roles: Vec<String>,
    /// When the `access_token` cookie stops working; refresh before then.
    pub access_token_expires_at: DateTime<Utc>,
    /// When the `refresh_token` cookie stops working unless it is used.
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl From<&IssuedSession> for SessionResponse {
    fn from(issued: &IssuedSession) -> Self {
        Self {
            user: issued.user.clone().into(),
            roles: issued.roles.clone(),
            access_token_expires_at: issued.access_expires_at,
            refresh_token_expires_at: issued.refresh_expires_at,
        }
    }
}

/// A plain acknowledgement.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Status")]
pub struct StatusResponse {
    /// Always `ok`.
    pub status: String,
}

impl StatusResponse {
    pub fn ok() -> Self {
        Self {
            status: "ok".to_owned(),
        }
    }
}

/// How a second factor may be given.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A six-digit code from the authenticator app.
    Totp,
    /// One of the recovery codes.
    RecoveryCode,
}

impl SecondFactorMethod {
    /// Every way there is: what a second-factor step offers.
    pub fn all() -> Vec<Self> {
        vec![Self::Totp, Self::RecoveryCode]
    }
}

/// The password, and the second factor when 2FA is on: what sensitive changes need.
#[derive(Object)]
pub struct StepUpRequest {
    pub password: Text<LoginPassword>,
    /// Required when 2FA is on (or `recovery_code`; `code` wins when both are sent).
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

impl StepUpRequest {
    /// The step-up answer this request carries, with the browser's device token.
    pub fn into_answer(self, device_token: Option<String>) -> Result<StepUpAnswer, AuthError> {
        step_up_answer(
            self.password,
            "password",
            self.code,
            self.recovery_code,
            device_token,
        )
    }
}

/// A step-up answer parsed from a request's fields; `password_field` names the password field
/// in a validation error.
pub fn step_up_answer(
    password: Text<LoginPassword>,
    password_field: &'static str,
    code: Option<Text<OneTimeCode>>,
    recovery_code: Option<Text<RecoveryCodeText>>,
    device_token: Option<String>,
) -> Result<StepUpAnswer, AuthError> {
    let password = Password::parse_for_login(password.into_inner())
        .map_err(|e| AuthError::Validation(vec![e.for_field(password_field)]))?;
    Ok(StepUpAnswer {
        password,
        code: second_factor_of(code, recovery_code),
        device_token,
    })
}

/// The second factor a request carries, if any: `code` when both are sent.
pub fn second_factor_of(
    code: Option<Text<OneTimeCode>>,
    recovery_code: Option<Text<RecoveryCodeText>>,
) -> Option<Code> {
    match (code, recovery_code) {
        (Some(code), _) => Some(Code::Totp(code.into_inner())),
        (None, Some(recovery)) => Some(Code::Recovery(recovery.into_inner())),
        (None, None) => None,
    }
}
