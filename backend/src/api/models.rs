//! Request and response bodies as they appear on the wire and in the OpenAPI spec.
//! Entities never go on the wire: they are mapped to these types.

use std::{borrow::Cow, marker::PhantomData};

use chrono::{DateTime, Utc};
use poem_openapi::{
    Enum, Object,
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::{
        AuthError, Identity, activity,
        credentials::SignedIn,
        device,
        keys::PublishedKey,
        second_factor::{Code, StepUpAnswer},
        sessions::IssuedSession,
    },
    domain::{Password, Username, describe_device},
    entity::{activity_event, session, trusted_device},
};

/// The constraints published in the spec for one kind of text field.
pub trait TextRules: Send + Sync + 'static {
    const MIN_LENGTH: Option<usize> = None;
    const MAX_LENGTH: Option<usize> = None;
    const PATTERN: Option<&'static str> = None;
    const FORMAT: Option<&'static str> = None;
    const EXAMPLE: &'static str;
    /// Whether parsing itself refuses a value outside the lengths (a `malformed_request`), for
    /// opaque values that have no domain type to judge them with a friendlier message.
    const ENFORCE_LENGTH: bool = false;
}

/// A JSON string whose schema carries `R`'s constraints.
///
/// Parsing accepts any string (and only strings): the rules themselves are enforced by the
/// domain types, which report every invalid field at once as `validation_failed`, instead of
/// failing on the first one with a framework message.
pub struct Text<R: TextRules>(String, PhantomData<R>);

impl<R: TextRules> Text<R> {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<R: TextRules> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: R::MIN_LENGTH,
            max_length: R::MAX_LENGTH,
            pattern: R::PATTERN.map(str::to_owned),
            format: R::FORMAT,
            example: Some(Value::String(R::EXAMPLE.to_owned())),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<R: TextRules> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => {
                let len = s.chars().count();
                let fits = R::MIN_LENGTH.is_none_or(|min| len >= min)
                    && R::MAX_LENGTH.is_none_or(|max| len <= max);
                if R::ENFORCE_LENGTH && !fits {
                    return Err(ParseError::custom("length out of range"));
                }
                Ok(Self(s, PhantomData))
            }
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<R: TextRules> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

pub struct NewUsername;
impl TextRules for NewUsername {
    const MIN_LENGTH: Option<usize> = Some(Username::MIN_LEN);
    const MAX_LENGTH: Option<usize> = Some(Username::MAX_LEN);
    const PATTERN: Option<&'static str> = Some(Username::PATTERN);
    const EXAMPLE: &'static str = "alice";
}

pub struct NewPassword;
impl TextRules for NewPassword {
    const MIN_LENGTH: Option<usize> = Some(Password::MIN_LEN);
    const MAX_LENGTH: Option<usize> = Some(Password::MAX_LEN);
    const FORMAT: Option<&'static str> = Some("password");
    const EXAMPLE: &'static str = "correct horse battery staple";
}

pub struct AnyUsername;
impl TextRules for AnyUsername {
    const EXAMPLE: &'static str = "alice";
}

pub struct LoginPassword;
impl TextRules for LoginPassword {
    const MAX_LENGTH: Option<usize> = Some(Password::MAX_LEN);
    const FORMAT: Option<&'static str> = Some("password");
    const EXAMPLE: &'static str = "correct horse battery staple";
}

/// A new account.
#[derive(Object)]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_`, `.` and `-`, starting with a letter or digit.
    /// Unique regardless of case; shown back exactly as typed.
    pub username: Text<NewUsername>,
    /// 12–128 characters, any characters, no composition rules; it must not contain the
    /// username nor be easy to guess (zxcvbn score of at least `PASSWORD_MIN_SCORE`, default 3).
    pub password: Text<NewPassword>,
}

/// A password change.
#[derive(Object)]
pub struct PasswordChangeRequest {
    /// The password in use now.
    pub current_password: Text<LoginPassword>,
    /// The new password, under the same rules as at registration.
    pub new_password: Text<NewPassword>,
    /// Required when 2FA is on (or `recovery_code`).
    pub code: Option<Text<OneTimeCode>>,
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

/// Credentials for signing in.
#[derive(Object)]
pub struct LoginRequest {
    /// The username, in any letter case.
    pub username: Text<AnyUsername>,
    /// The password exactly as registered.
    pub password: Text<LoginPassword>,
}

/// A user account as others may see it.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(rename = "User")]
pub struct UserResponse {
    pub id: Uuid,
    /// As typed at registration.
    pub username: String,
    pub created_at: DateTime<Utc>,
}

/// A signed-in session. The tokens themselves travel only in HttpOnly cookies.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Session")]
pub struct SessionResponse {
    pub user: UserResponse,
    /// When the `access_token` cookie stops working; refresh before then.
    pub access_token_expires_at: DateTime<Utc>,
    /// When the `refresh_token` cookie stops working unless it is used.
    pub refresh_token_expires_at: DateTime<Utc>,
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

impl From<&IssuedSession> for SessionResponse {
    fn from(issued: &IssuedSession) -> Self {
        Self {
            user: issued.user.clone().into(),
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

/// A place where the user is signed in.
#[derive(Object, Debug, Clone)]
#[oai(rename = "SessionInfo")]
pub struct SessionInfo {
    pub id: Uuid,
    /// When this session signed in.
    pub created_at: DateTime<Utc>,
    /// The last sign-in or token renewal (renewals happen about every access-token lifetime
    /// while the app is in use).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless it is renewed.
    pub expires_at: DateTime<Utc>,
    /// The client address last seen for it.
    pub ip: Option<String>,
    /// Browser and operating system, from the user agent ("Firefox 128 on Linux").
    pub device: String,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionInfo {
    pub fn new(row: session::Model, current_session: Uuid) -> Self {
        Self {
            current: row.id == current_session,
            id: row.id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            ip: row.ip,
            device: describe_device(row.user_agent.as_deref()),
        }
    }
}

/// The caller's active sessions, most recently used first.
#[derive(Object, Debug, Clone)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// What happened on an account. New kinds may be added in later versions.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ActivityKind {
    /// Signed in with the password.
    SignedIn,
    /// A sign-in with this username and a wrong password.
    SignInFailed,
    /// Signed out.
    SignedOut,
    /// A session was ended from another session.
    SessionRevoked,
    /// Every session was ended.
    SignedOutEverywhere,
    /// The password was changed by the user.
    PasswordChanged,
    /// A stolen or replayed refresh token was presented; the session it belonged to was ended.
    RefreshTokenReuseDetected,
    /// An administrator disabled the account.
    AccountDisabled,
    /// An administrator re-enabled the account.
    AccountEnabled,
    /// An administrator set a new password.
    PasswordReset,
    /// An authenticator app was turned on.
    SecondFactorAdded,
    /// The authenticator app was turned off.
    SecondFactorRemoved,
    /// A sign-in was completed with the authenticator app.
    SecondFactorUsed,
    /// A sign-in or a change was completed with a recovery code.
    RecoveryCodeUsed,
    /// A wrong authenticator or recovery code was entered.
    SecondFactorFailed,
    /// New recovery codes replaced the old ones.
    RecoveryCodesReplaced,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// Signed in with a passkey.
    SignedInWithPasskey,
    /// An administrator removed every second factor (authenticator app, recovery codes,
    /// passkeys).
    FactorsReset,
}

impl From<activity::Kind> for ActivityKind {
    fn from(kind: activity::Kind) -> Self {
        use activity::Kind as K;
        match kind {
            K::SignedIn => Self::SignedIn,
            K::SignInFailed => Self::SignInFailed,
            K::SignedOut => Self::SignedOut,
            K::SessionRevoked => Self::SessionRevoked,
            K::SignedOutEverywhere => Self::SignedOutEverywhere,
            K::PasswordChanged => Self::PasswordChanged,
            K::RefreshTokenReuseDetected => Self::RefreshTokenReuseDetected,
            K::AccountDisabled => Self::AccountDisabled,
            K::AccountEnabled => Self::AccountEnabled,
            K::PasswordReset => Self::PasswordReset,
            K::SecondFactorAdded => Self::SecondFactorAdded,
            K::SecondFactorRemoved => Self::SecondFactorRemoved,
            K::SecondFactorUsed => Self::SecondFactorUsed,
            K::RecoveryCodeUsed => Self::RecoveryCodeUsed,
            K::SecondFactorFailed => Self::SecondFactorFailed,
            K::RecoveryCodesReplaced => Self::RecoveryCodesReplaced,
            K::PasskeyAdded => Self::PasskeyAdded,
            K::PasskeyRemoved => Self::PasskeyRemoved,
            K::SignedInWithPasskey => Self::SignedInWithPasskey,
            K::FactorsReset => Self::FactorsReset,
        }
    }
}

impl From<ActivityKind> for activity::Kind {
    fn from(kind: ActivityKind) -> Self {
        use ActivityKind as A;
        match kind {
            A::SignedIn => Self::SignedIn,
            A::SignInFailed => Self::SignInFailed,
            A::SignedOut => Self::SignedOut,
            A::SessionRevoked => Self::SessionRevoked,
            A::SignedOutEverywhere => Self::SignedOutEverywhere,
            A::PasswordChanged => Self::PasswordChanged,
            A::RefreshTokenReuseDetected => Self::RefreshTokenReuseDetected,
            A::AccountDisabled => Self::AccountDisabled,
            A::AccountEnabled => Self::AccountEnabled,
            A::PasswordReset => Self::PasswordReset,
            A::SecondFactorAdded => Self::SecondFactorAdded,
            A::SecondFactorRemoved => Self::SecondFactorRemoved,
            A::SecondFactorUsed => Self::SecondFactorUsed,
            A::RecoveryCodeUsed => Self::RecoveryCodeUsed,
            A::SecondFactorFailed => Self::SecondFactorFailed,
            A::RecoveryCodesReplaced => Self::RecoveryCodesReplaced,
            A::PasskeyAdded => Self::PasskeyAdded,
            A::PasskeyRemoved => Self::PasskeyRemoved,
            A::SignedInWithPasskey => Self::SignedInWithPasskey,
            A::FactorsReset => Self::FactorsReset,
        }
    }
}

/// One security event.
#[derive(Object, Debug, Clone)]
#[oai(rename = "ActivityEvent")]
pub struct ActivityEventResponse {
    pub id: Uuid,
    pub kind: ActivityKind,
    pub at: DateTime<Utc>,
    /// The client address it came from, when it came from a client.
    pub ip: Option<String>,
    /// Browser and operating system, when it came from a client.
    pub device: Option<String>,
    /// The session it concerns, if any.
    pub session_id: Option<Uuid>,
}

impl ActivityEventResponse {
    /// `None` for a kind this version does not know (written by a newer one).
    pub fn new(row: activity_event::Model) -> Option<Self> {
        let kind = activity::Kind::parse(&row.kind)?;
        Some(Self {
            id: row.id,
            kind: kind.into(),
            at: row.at,
            device: row
                .user_agent
                .as_deref()
                .map(|ua| describe_device(Some(ua))),
            ip: row.ip,
            session_id: row.session_id,
        })
    }
}

/// The caller's recent security events, newest first.
#[derive(Object, Debug, Clone)]
pub struct ActivityList {
    pub events: Vec<ActivityEventResponse>,
    /// Present when there are older events: pass it as `before` for the next page.
    pub next_before: Option<Uuid>,
}

pub struct RefreshTokenText;
impl TextRules for RefreshTokenText {
    const MAX_LENGTH: Option<usize> = Some(128);
    const EXAMPLE: &'static str = "kX9c2s0qVt7n3mB5wL1yZ8rQ4uE6aJhGfDpSoNiTcYv";
    const ENFORCE_LENGTH: bool = true;
}

/// Credentials for a client that is not a browser.
#[derive(Object)]
pub struct TokenRequest {
    /// The username, in any letter case.
    pub username: Text<AnyUsername>,
    /// The password exactly as registered.
    pub password: Text<LoginPassword>,
    /// The `device_token` an earlier sign-in of this client returned: the client is then
    /// judged by its own failure count, so strangers who lock the username out do not lock
    /// it out. Keep it, like a browser keeps its device cookie.
    pub device_token: Option<Text<DeviceTokenText>>,
}

/// A refresh token held by a client that is not a browser.
#[derive(Object)]
pub struct RefreshTokenRequest {
    /// The `refresh_token` from `/token` or the last `/token/refresh`.
    pub refresh_token: Text<RefreshTokenText>,
}

/// Tokens for a client that is not a browser (RFC 6749 §5.1 field names).
#[derive(Object, Debug, Clone)]
pub struct TokenResponse {
    /// The access token (a JWT): send it as `Authorization: Bearer`.
    pub access_token: String,
    /// Exchange it at `/token/refresh` for a new pair; it works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires unless it is used.
    pub refresh_expires_in: u64,
    /// After a sign-in: this client's device token (the same one it sent, or a new one).
    /// Send it as `device_token` with later sign-ins.
    #[oai(skip_serializing_if_is_none)]
    pub device_token: Option<String>,
    /// Seconds this client stays trusted unless it signs in again.
    #[oai(skip_serializing_if_is_none)]
    pub device_token_expires_in: Option<u64>,
}

fn seconds_from(now: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0)
}

impl TokenResponse {
    pub fn new(issued: &IssuedSession, now: DateTime<Utc>) -> Self {
        Self {
            access_token: issued.access_token.clone(),
            refresh_token: issued.refresh_token.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: seconds_from(now, issued.access_expires_at),
            refresh_expires_in: seconds_from(now, issued.refresh_expires_at),
            device_token: None,
            device_token_expires_in: None,
        }
    }

    /// The tokens of a sign-in, with its device token.
    pub fn signed_in(signed_in: &SignedIn, now: DateTime<Utc>) -> Self {
        Self {
            device_token: signed_in.device.as_ref().map(|d| d.token.clone()),
            device_token_expires_in: signed_in
                .device
                .as_ref()
                .map(|d| seconds_from(now, d.expires_at)),
            ..Self::new(&signed_in.session, now)
        }
    }
}

/// A device this account trusts: it signed in before, and a sign-in from it is judged by its
/// own failure count, so it can sign in while strangers have locked the username.
#[derive(Object, Debug, Clone)]
#[oai(rename = "TrustedDevice")]
pub struct TrustedDeviceInfo {
    pub id: Uuid,
    /// Browser and operating system ("Firefox 128 on Linux"), or the client's product name.
    pub device: String,
    /// The address of its last sign-in.
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Its last sign-in.
    pub last_used_at: DateTime<Utc>,
    /// When trust ends unless it signs in again.
    pub expires_at: DateTime<Utc>,
    /// This is the device making the request.
    pub current: bool,
}

impl TrustedDeviceInfo {
    pub fn new(row: trusted_device::Model, presented: Option<&str>) -> Self {
        Self {
            current: device::is_presented(&row, presented),
            id: row.id,
            device: describe_device(row.user_agent.as_deref()),
            ip: row.ip,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
        }
    }
}

/// The devices the caller's account trusts (at most ten, the most recently used).
#[derive(Object, Debug, Clone)]
pub struct TrustedDeviceList {
    pub devices: Vec<TrustedDeviceInfo>,
}

/// A public key that verifies access tokens (RFC 7517).
#[derive(Object, Debug, Clone)]
pub struct Jwk {
    /// `OKP` (Ed25519) or `EC` (P-256).
    pub kty: String,
    /// `Ed25519` or `P-256`.
    pub crv: String,
    pub x: String,
    /// Present for `EC` keys.
    #[oai(skip_serializing_if_is_none)]
    pub y: Option<String>,
    /// The `kid` in the header of the tokens this key signed.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub alg: String,
    /// Always `sig`.
    #[oai(rename = "use")]
    pub use_: String,
}

/// Every key that may verify a token that is still valid, and the next key before it signs.
#[derive(Object, Debug, Clone)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl From<Vec<PublishedKey>> for JwkSet {
    fn from(keys: Vec<PublishedKey>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|key| Jwk {
                    kty: key.jwk.kty,
                    crv: key.jwk.crv,
                    x: key.jwk.x,
                    y: key.jwk.y,
                    kid: key.kid,
                    alg: key.alg.to_owned(),
                    use_: "sig".to_owned(),
                })
                .collect(),
        }
    }
}

/// The state of the session behind an access token.
#[derive(Object, Debug, Clone)]
pub struct SessionStatus {
    /// Always `true`: an inactive session answers 401.
    pub active: bool,
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When this access token expires.
    pub expires_at: DateTime<Utc>,
}

pub struct OneTimeCode;
impl TextRules for OneTimeCode {
    const MAX_LENGTH: Option<usize> = Some(16);
    const EXAMPLE: &'static str = "123456";
    const ENFORCE_LENGTH: bool = true;
}

pub struct RecoveryCodeText;
impl TextRules for RecoveryCodeText {
    const MAX_LENGTH: Option<usize> = Some(32);
    const EXAMPLE: &'static str = "7hq2k-m9xvp";
    const ENFORCE_LENGTH: bool = true;
}

pub struct OpaqueToken;
impl TextRules for OpaqueToken {
    const MAX_LENGTH: Option<usize> = Some(64);
    const EXAMPLE: &'static str = "kX9c2s0qVt7n3mB5wL1yZ8rQ4uE6aJhGfDpSoNiTcYv";
    const ENFORCE_LENGTH: bool = true;
}

pub struct PasskeyNameText;
impl TextRules for PasskeyNameText {
    const MIN_LENGTH: Option<usize> = Some(1);
    const MAX_LENGTH: Option<usize> = Some(crate::domain::PasskeyName::MAX_LEN);
    const EXAMPLE: &'static str = "Work laptop";
}

pub struct DeviceTokenText;
impl TextRules for DeviceTokenText {
    const MAX_LENGTH: Option<usize> = Some(128);
    const EXAMPLE: &'static str = "Qm9vdHN0cmFwcGVkIGRldmljZSB0b2tlbiBleGFtcGxl";
    const ENFORCE_LENGTH: bool = true;
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

/// The password was right and 2FA is on: finish at `/login/mfa` within five minutes (the
/// challenge travels in an HttpOnly cookie).
#[derive(Object, Debug, Clone)]
pub struct SecondFactorChallenge {
    /// Always `true`.
    pub mfa_required: bool,
    pub methods: Vec<SecondFactorMethod>,
}

impl Default for SecondFactorChallenge {
    fn default() -> Self {
        Self {
            mfa_required: true,
            methods: vec![SecondFactorMethod::Totp, SecondFactorMethod::RecoveryCode],
        }
    }
}

/// What `/login` answers with a right password: a session, or a second-factor step.
#[derive(poem_openapi::Union, Debug, Clone)]
pub enum LoginResult {
    Session(SessionResponse),
    SecondFactor(SecondFactorChallenge),
}

/// The account's password, asked again.
#[derive(Object)]
pub struct PasswordOnly {
    pub password: Text<LoginPassword>,
}

/// A second factor: one of the two (when both are sent, `code` is used).
#[derive(Object)]
pub struct SecondFactorRequest {
    /// Six digits from the authenticator app.
    pub code: Option<Text<OneTimeCode>>,
    /// One unused recovery code (`xxxxx-xxxxx`; case and dashes do not matter).
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

/// The password, and the second factor when 2FA is on: what sensitive changes need.
#[derive(Object)]
pub struct StepUpRequest {
    pub password: Text<LoginPassword>,
    /// Required when 2FA is on (or `recovery_code`; `code` wins when both are sent).
    pub code: Option<Text<OneTimeCode>>,
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

/// The password was right and 2FA is on: finish at `/token/mfa` within five minutes.
#[derive(Object, Debug, Clone)]
pub struct TokenSecondFactor {
    /// Always `true`.
    pub mfa_required: bool,
    pub methods: Vec<SecondFactorMethod>,
    /// Send it back to `/token/mfa` with the code; it works once.
    pub mfa_token: String,
}

/// What `/token` answers with a right password: tokens, or a second-factor step.
#[derive(poem_openapi::Union, Debug, Clone)]
pub enum TokenResult {
    Tokens(TokenResponse),
    SecondFactor(TokenSecondFactor),
}

/// The second step of `/token` when 2FA is on.
#[derive(Object)]
pub struct TokenSecondFactorRequest {
    pub mfa_token: Text<OpaqueToken>,
    pub code: Option<Text<OneTimeCode>>,
    pub recovery_code: Option<Text<RecoveryCodeText>>,
    /// This client's `device_token`, as for `/token`.
    pub device_token: Option<Text<DeviceTokenText>>,
}

/// The caller's second factors.
#[derive(Object, Debug, Clone)]
pub struct MfaStatus {
    /// An authenticator app is on: signing in with the password needs a code.
    pub totp_enabled: bool,
    /// Unused recovery codes.
    pub recovery_codes_remaining: u64,
    /// Registered passkeys.
    pub passkeys: u64,
}

/// A pending authenticator-app enrolment: scan the URI (or type the secret), then confirm
/// with a code. The secret is shown this once.
#[derive(Object, Debug, Clone)]
pub struct TotpEnrolment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

/// The first code from the app, to prove the enrolment worked.
#[derive(Object)]
pub struct TotpConfirmation {
    pub code: Text<OneTimeCode>,
}

/// Ten recovery codes, each good once. Shown this once: keep them somewhere safe.
#[derive(Object, Debug, Clone)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A registered passkey.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Passkey")]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The last sign-in with it.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<crate::entity::passkey::Model> for PasskeyInfo {
    fn from(row: crate::entity::passkey::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

#[derive(Object, Debug, Clone)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyInfo>,
}

/// A passkey registration ceremony (see `WebauthnCeremony`), with a name for the new passkey
/// suggested from this device ("Chrome on macOS"), for the person to keep or change.
#[derive(Object, Debug, Clone)]
pub struct PasskeyRegistrationCeremony {
    pub ceremony: String,
    /// `{publicKey: …}`, binary fields in base64url, for `navigator.credentials.create()`.
    pub options: Value,
    pub suggested_name: String,
}

/// A new name for a passkey.
#[derive(Object)]
pub struct PasskeyRename {
    /// 1–64 characters; no control or invisible formatting characters.
    pub name: Text<PasskeyNameText>,
}

/// A WebAuthn ceremony: pass `options` to `navigator.credentials.create()` or `.get()`
/// (`PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)` or
/// `parseRequestOptionsFromJSON`), then send the result with `ceremony` to the finish step
/// within five minutes.
#[derive(Object, Debug, Clone)]
pub struct WebauthnCeremony {
    pub ceremony: String,
    /// `{publicKey: …}`, binary fields in base64url.
    pub options: Value,
}

/// The authenticator's answer to a registration.
#[derive(Object)]
pub struct PasskeyRegistrationFinish {
    pub ceremony: Text<OpaqueToken>,
    /// What the user calls this passkey (1–64 characters; no control or invisible formatting
    /// characters). Without it, the name suggested when the ceremony started.
    pub name: Option<Text<PasskeyNameText>>,
    /// `credential.toJSON()` of the new credential.
    pub credential: Value,
}

/// The authenticator's answer to a sign-in.
#[derive(Object)]
pub struct PasskeySignInFinish {
    pub ceremony: Text<OpaqueToken>,
    /// `credential.toJSON()` of the assertion.
    pub credential: Value,
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
