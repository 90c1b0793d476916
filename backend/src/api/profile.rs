//! The signed-in user's own account.

use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, payload::Json};

use super::{
    ApiTags,
    auth::now,
    error::{ApiError, ErrorBody, error_variants},
    models::UserResponse,
    security::AccessToken,
};
use crate::{auth::sessions, state::AppState};

pub struct ProfileApi;

#[OpenApi(tag = "ApiTags::Account")]
impl ProfileApi {
    /// Who am I
    ///
    /// The account behind the access token (the `access_token` cookie or an
    /// `Authorization: Bearer` header). A token of a session that was logged out, or of a
    /// deleted account, is rejected even before it expires.
    #[oai(path = "/profile", method = "get", operation_id = "profile")]
    async fn profile(&self, state: Data<&AppState>, auth: AccessToken) -> ProfileResponse {
        match sessions::authenticate(&state, auth.token(), now()).await {
            Ok(user) => ProfileResponse::Ok(Json(user.into())),
            Err(e) => ApiError::from(e).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum ProfileResponse {
    /// The signed-in user.
    #[oai(status = 200)]
    Ok(Json<UserResponse>),
    /// `malformed_request`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `unauthenticated`: no token, or an invalid, expired or revoked one. Try `/refresh`.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `internal`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}
error_variants!(ProfileResponse { 400 => BadRequest, 401 => Unauthorized, 500 => Internal, 503 => Unavailable });
