//! Liveness and readiness probes for orchestrators and load balancers.

use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, payload::Json};

use super::{
    ApiTags, AppState,
    error::{ApiError, ErrorCode, ErrorJson},
    shared::StatusResponse,
};
use crate::telemetry::refusals::{self, Refusal};

#[derive(Default)]
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// The process is up and serving requests. Does not touch the database.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<StatusResponse> {
        Json(StatusResponse::ok())
    }

    /// Readiness
    ///
    /// 200 when the database answers; 503 when it does not, or while the server drains before
    /// shutting down.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> ReadyResponse {
        if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
            return ReadyResponse::NotReady(
                ApiError::new(ErrorCode::ServiceUnavailable).into_json(),
            );
        }
        match tokio::time::timeout(std::time::Duration::from_secs(2), state.auth.db.ping()).await {
            Ok(Ok(())) => ReadyResponse::Ready(Json(StatusResponse::ok())),
            // Probes (and anyone) may ask many times a second during an outage: summarised.
            Ok(Err(e)) => {
                refusals::refused(Refusal::DatabaseUnavailable, Some(&e.to_string()));
                ReadyResponse::NotReady(ApiError::new(ErrorCode::ServiceUnavailable).into_json())
            }
            Err(_) => {
                refusals::refused(Refusal::DatabaseUnavailable, Some("no answer within 2 s"));
                ReadyResponse::NotReady(ApiError::new(ErrorCode::ServiceUnavailable).into_json())
            }
        }
    }
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database answers.
    #[oai(status = 200)]
    Ready(Json<StatusResponse>),
    /// `service_unavailable`: the database does not answer, or the server is draining.
    #[oai(
        status = 503,
        header(name = "Retry-After", ty = "u64", description = "Seconds to wait.")
    )]
    NotReady(ErrorJson),
}
