//! The signed-in user's own account: who am I, and deleting it.

use chrono::{DateTime, Utc};
use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{Object, OpenApi, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{answer, api_response},
    now,
    security::{AccessToken, authenticate},
    shared::{StatusResponse, StepUpRequest},
};
use crate::auth::{accounts, roles, sessions::Authenticated};

#[derive(Default)]
pub struct ProfileApi;

#[OpenApi(tag = "ApiTags::Account")]
impl ProfileApi {
    /// Who am I
    ///
    /// The account behind the access token (the access-token cookie or an
    /// `Authorization: Bearer` header). A token of a session that was logged out or revoked,
    /// or of a deleted account, is rejected even before it expires.
    #[oai(path = "/profile", method = "get", operation_id = "profile")]
    async fn profile(&self, state: Data<&AppState>, auth: AccessToken) -> ProfileResponse {
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            let roles = roles::of_user(&state.auth.db, caller.user.id).await?;
            Ok(ProfileResponse::Ok(Json(Profile {
                roles,
                ..Profile::from(caller)
            })))
        })
        .await
    }

    /// Delete my account
    ///
    /// Deletes the account and everything that belongs to it (sessions, tokens, activity,
    /// second factors, throttle state) after checking the password (and a code when 2FA is
    /// on), and clears the cookies. The username is free again at once. A wrong password is
    /// `403 invalid_credentials` and counts as a failed sign-in. The only enabled
    /// administrator cannot delete their account (`409 last_admin`).
    #[oai(path = "/profile", method = "delete", operation_id = "delete_account")]
    async fn delete_account(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> DeleteAccountResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            accounts::delete_own_account(&state.auth, &caller, &step_up, &client_info(req), now)
                .await?;
            state.cookies.clear_session(jar);
            state.cookies.clear_device(jar);
            Ok(DeleteAccountResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }
}

/// The signed-in user, with what the account says about itself.
#[derive(Object, Debug, Clone)]
pub struct Profile {
    pub id: Uuid,
    /// As typed at registration.
    pub username: String,
    pub created_at: DateTime<Utc>,
    /// The address for recovery and notices, if one was set.
    #[oai(nullable)]
    pub email: Option<String>,
    /// Whether `email` was verified (only a verified address receives reset links and notices).
    pub email_verified: bool,
    /// When the current recovery key was made, if there is one.
    #[oai(nullable)]
    pub recovery_key_created_at: Option<DateTime<Utc>>,
    /// The roles the account holds now (access tokens carry them as `roles`).
    pub roles: Vec<String>,
}

impl From<Authenticated> for Profile {
    fn from(caller: Authenticated) -> Self {
        Self {
            id: caller.user.id,
            username: caller.user.username,
            created_at: caller.user.created_at,
            email: caller.details.email,
            email_verified: caller.details.email_verified,
            recovery_key_created_at: caller.details.recovery_key_created_at,
            roles: Vec::new(),
        }
    }
}

api_response! {
    pub enum ProfileResponse {
        /// The signed-in user.
        #[oai(status = 200)]
        Ok(Json<Profile>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: no token, or an invalid, expired or revoked one. Try `/refresh`.",
        403,
        503 => "`service_unavailable`."
    }
}

api_response! {
    pub enum DeleteAccountResponse {
        /// The account is gone; the cookies are cleared.
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "Clears the session and device cookies (Max-Age=0)."
            )
        )]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (the password is wrong; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        409 => "`last_admin`: this is the only enabled administrator; grant `admin` to someone else first.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: too many wrong passwords; wait `Retry-After` seconds.",
        503 => "`service_unavailable`: nothing was deleted; retry."
    }
}
