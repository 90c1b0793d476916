//! Getting back in, and the email address that can help: what this server offers, asking for
//! a reset link, resetting a password with one proof, the recovery key, and setting, verifying
//! and removing an address.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{answer, api_response},
    now,
    security::{AccessToken, authenticate},
    shared::{StatusResponse, StepUpRequest, step_up_answer},
    text::{
        AnyUsername, EmailText, LinkTokenText, LoginPassword, NewPassword, OneTimeCode,
        RecoveryCodeText, RecoveryKeyText, Text, TextRules,
    },
};
use crate::{
    auth::{
        AuthError, email,
        recovery::{self, Proof},
    },
    domain::{EmailAddress, FieldError},
};

#[derive(Default)]
pub struct RecoveryApi;

#[OpenApi(tag = "ApiTags::Recovery")]
impl RecoveryApi {
    /// What this server offers
    ///
    /// Whether it sends mail (`SMTP_URL` is set): with `email: false`, email addresses and reset
    /// links by mail are off, and an app hides them. Needs no session.
    #[oai(path = "/features", method = "get", operation_id = "features")]
    async fn features(&self, state: Data<&AppState>) -> FeaturesResponse {
        FeaturesResponse::Ok(Json(Features {
            email: state.auth.mail.is_some(),
        }))
    }

    /// Ask for a reset link
    ///
    /// Mails a password reset link to the account's verified address, if the name exists and
    /// has one (at most three an hour). The answer is the same, in the same time, whatever the
    /// name: nothing says whether an account exists or has an address. The link works once,
    /// for 30 minutes, and does not sign in.
    #[oai(
        path = "/password/forgot",
        method = "post",
        operation_id = "forgot_password"
    )]
    async fn forgot(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ForgotRequest>,
    ) -> ForgotResponse {
        answer(async {
            if state.auth.mail.is_none() {
                return Err(AuthError::MailDisabled.into());
            }
            let now = now();
            let client = client_info(req);
            recovery::admit_forgot(&state.auth.db, &client, now).await?;
            // Whatever happens next happens after the answer, so the answer cannot tell.
            let username = body.0.username.into_inner();
            let background = state.auth.background.clone();
            let state = (*state).clone();
            background.spawn(async move {
                if let Err(e) = recovery::forgot(&state.auth, &username, &client, now).await {
                    tracing::warn!(error = %crate::telemetry::Chain(&e), "mailing a reset link failed");
                }
            });
            Ok(ForgotResponse::Accepted(Json(StatusResponse::ok())))
        })
        .await
    }

    /// Reset a forgotten password
    ///
    /// The new password and exactly one proof: the `token` of a reset link (mailed, or from an
    /// operator); or `username` and `recovery_key`; or, with 2FA on, `username`,
    /// `recovery_code` and a current authenticator `code` (both: a code alone is refused).
    /// Every session, pending sign-in and trusted device ends; 2FA and passkeys stay; nobody is
    /// signed in. A wrong, used or expired proof is `400 invalid_token` whatever was wrong, and
    /// counts like a failed sign-in.
    #[oai(
        path = "/password/reset",
        method = "post",
        operation_id = "reset_password"
    )]
    async fn reset(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ResetRequest>,
    ) -> ResetResponse {
        answer(async {
            let (proof, new_password) = body.0.into_proof()?;
            recovery::reset_password(&state.auth, proof, new_password, &client_info(req), now())
                .await?;
            Ok(ResetResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }

    /// Make a recovery key
    ///
    /// After the password (and a code when 2FA is on): a new recovery key, shown this once, that
    /// resets the password with the username if it is ever forgotten. Any earlier key stops
    /// working. Keep it somewhere safe, away from this device.
    #[oai(
        path = "/recovery-key",
        method = "post",
        operation_id = "create_recovery_key"
    )]
    async fn create_recovery_key(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> RecoveryKeyResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            let key = recovery::create_recovery_key(
                &state.auth,
                &caller,
                &step_up,
                &client_info(req),
                now,
            )
            .await?;
            Ok(RecoveryKeyResponse::Ok(Json(RecoveryKey {
                recovery_key: key,
            })))
        })
        .await
    }

    /// Set my email address
    ///
    /// After the password (and a code when 2FA is on): the address replaces any earlier one and
    /// is unverified until the link mailed to it is followed (`/email/verify`); only a verified
    /// address receives reset links and security notices. The old verified address is told.
    #[oai(path = "/email", method = "post", operation_id = "set_email")]
    async fn set_email(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<EmailRequest>,
    ) -> SetEmailResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let Json(EmailRequest {
                email,
                password,
                code,
                recovery_code,
            }) = body;
            let address = EmailAddress::parse(&email.into_inner());
            let step_up = step_up_answer(
                password,
                "password",
                code,
                recovery_code,
                state.cookies.device_token(jar),
            );
            let (address, step_up) = match (address, step_up) {
                (Ok(address), Ok(step_up)) => (address, step_up),
                (address, step_up) => {
                    let mut fields: Vec<FieldError> = address.err().into_iter().collect();
                    if let Err(AuthError::Validation(more)) = step_up {
                        fields.extend(more);
                    }
                    return Err(AuthError::Validation(fields).into());
                }
            };
            email::set(
                &state.auth,
                &caller,
                address,
                &step_up,
                &client_info(req),
                now,
            )
            .await?;
            Ok(SetEmailResponse::Accepted(Json(StatusResponse::ok())))
        })
        .await
    }

    /// Verify my email address
    ///
    /// Follows the link mailed to a new address: the `token` from it. Needs no session (the link
    /// may be opened on another device). A wrong, used or expired token, or one for an address
    /// since replaced, is `400 invalid_token`.
    #[oai(path = "/email/verify", method = "post", operation_id = "verify_email")]
    async fn verify_email(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<VerifyEmailRequest>,
    ) -> VerifyEmailResponse {
        answer(async {
            let address = email::verify(
                &state.auth,
                &body.0.token.into_inner(),
                &client_info(req),
                now(),
            )
            .await?;
            Ok(VerifyEmailResponse::Ok(Json(VerifiedEmail {
                email: address,
            })))
        })
        .await
    }

    /// Remove my email address
    ///
    /// After the password (and a code when 2FA is on). The address is told; reset links and
    /// notices stop.
    #[oai(path = "/email", method = "delete", operation_id = "remove_email")]
    async fn remove_email(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> RemoveEmailResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            email::remove(&state.auth, &caller, &step_up, &client_info(req), now).await?;
            Ok(RemoveEmailResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }
}

/// What this server offers.
#[derive(Object, Debug, Clone)]
pub struct Features {
    /// It sends mail: email addresses, reset links by mail and security notices are on.
    pub email: bool,
}

/// Whose password to reset.
#[derive(Object)]
pub struct ForgotRequest {
    pub username: Text<AnyUsername>,
}

/// A new password, with exactly one proof.
#[derive(Object)]
pub struct ResetRequest {
    /// Under the same rules as at registration.
    pub new_password: Text<NewPassword>,
    /// The token of a reset link (after `#token=`).
    #[oai(nullable)]
    pub token: Option<Text<LinkTokenText>>,
    /// With `recovery_key`, or with `recovery_code` and `code`.
    #[oai(nullable)]
    pub username: Option<Text<AnyUsername>>,
    #[oai(nullable)]
    pub recovery_key: Option<Text<RecoveryKeyText>>,
    /// One of the recovery codes, with 2FA on; needs `code` too.
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
    /// A current code from the authenticator app, with `recovery_code`.
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
}

impl ResetRequest {
    /// The one proof this request carries (and the new password), or why it does not carry
    /// exactly one.
    fn into_proof(self) -> Result<(Proof, String), AuthError> {
        fn given<R: TextRules>(field: Option<Text<R>>) -> Option<String> {
            field.map(Text::into_inner).filter(|s| !s.trim().is_empty())
        }
        let invalid = |field: &'static str, message: &str| {
            AuthError::Validation(vec![FieldError::new(field, message)])
        };
        let proof = (
            given(self.token),
            given(self.username),
            given(self.recovery_key),
            given(self.recovery_code),
            given(self.code),
        );
        let new_password = self.new_password.into_inner();
        let proof = match proof {
            (Some(token), None, None, None, None) => Ok(Proof::Token(token)),
            (None, Some(username), Some(key), None, None) => {
                Ok(Proof::RecoveryKey { username, key })
            }
            (None, Some(username), None, Some(recovery_code), Some(code)) => {
                Ok(Proof::RecoveryCode {
                    username,
                    recovery_code,
                    code,
                })
            }
            (None, Some(_), None, Some(_), None) => Err(invalid(
                "code",
                "Enter a code from your authenticator app too: a recovery code alone is not enough.",
            )),
            (None, Some(_), None, None, Some(_)) => Err(invalid(
                "recovery_code",
                "Enter one of your recovery codes too: a code from the app alone is not enough.",
            )),
            (None, None, key, recovery_code, code)
                if key.is_some() || recovery_code.is_some() || code.is_some() =>
            {
                Err(invalid(
                    "username",
                    "Enter your username with the recovery key or recovery code.",
                ))
            }
            _ => Err(invalid(
                "token",
                "Give exactly one proof: the link's token, your recovery key, or a recovery code with a code from your app.",
            )),
        }?;
        Ok((proof, new_password))
    }
}

/// A new recovery key, shown this once.
#[derive(Object, Debug, Clone)]
pub struct RecoveryKey {
    pub recovery_key: String,
}

/// An address for recovery and notices, with the step-up.
#[derive(Object)]
pub struct EmailRequest {
    /// `name@example.com`, at most 254 characters.
    pub email: Text<EmailText>,
    /// The password in use now.
    pub password: Text<LoginPassword>,
    /// Required when 2FA is on (or `recovery_code`).
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

/// The token from a verification link.
#[derive(Object)]
pub struct VerifyEmailRequest {
    pub token: Text<LinkTokenText>,
}

/// The address that is now verified.
#[derive(Object, Debug, Clone)]
pub struct VerifiedEmail {
    pub email: String,
}

api_response! {
    pub enum FeaturesResponse {
        /// What this server offers.
        #[oai(status = 200)]
        Ok(Json<Features>),
    }
    errors {
        403
    }
}

api_response! {
    pub enum ForgotResponse {
        /// Accepted: if the account exists and has a verified address, a link is on its way.
        #[oai(status = 202)]
        Accepted(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        403,
        409 => "`email_disabled`: this server sends no mail; use a recovery key or recovery code.",
        413,
        415,
        429 => "`too_many_attempts`: too many requests from this address; wait `Retry-After` seconds.",
        503
    }
}

api_response! {
    pub enum ResetResponse {
        /// The password is reset; every session has ended. Sign in with the new password.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`invalid_token` (a wrong, used or expired proof, whatever was wrong), `validation_failed` (see `fields`: `new_password` refused by the policy, or not exactly one proof) or `malformed_request`.",
        403 => "`account_disabled` or `forbidden_origin`.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong proofs for this name or from this address; wait `Retry-After` seconds.",
        503
    }
}

api_response! {
    pub enum RecoveryKeyResponse {
        /// The new recovery key, shown this once.
        #[oai(status = 200)]
        Ok(Json<RecoveryKey>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum SetEmailResponse {
        /// The address is set; a link to verify it is on its way.
        #[oai(status = 202)]
        Accepted(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` (see `fields`: `email`) or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        409 => "`email_disabled`: this server sends no mail.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum VerifyEmailResponse {
        /// The address is verified.
        #[oai(status = 200)]
        Ok(Json<VerifiedEmail>),
    }
    errors {
        400 => "`invalid_token` (wrong, used or expired, or for an address since replaced) or `malformed_request`.",
        403,
        413,
        415,
        503
    }
}

api_response! {
    pub enum RemoveEmailResponse {
        /// The address is gone.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        404 => "`not_found`: the account has no address.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}
