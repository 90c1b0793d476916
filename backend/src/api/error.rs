//! The one error shape every non-2xx response uses: `{"code", "message", "fields"?}`.
//!
//! Domain errors (`AuthError`) and poem-openapi's own rejections (bad JSON, wrong content
//! type, missing credentials) are both mapped here, once. A 500 says "internal error" and
//! nothing else; its cause is logged.

use poem::{
    IntoResponse, Response,
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{
    Enum, Object,
    payload::{Json, Payload},
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

use crate::{
    auth::AuthError,
    domain::FieldError,
    storage::StorageError,
    telemetry::{
        Chain,
        refusals::{self, Refusal},
    },
};

/// What went wrong, as a stable machine-readable code. New codes may be added in later
/// versions: treat an unknown code by its HTTP status.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields break the rules; see `fields`.
    ValidationFailed,
    /// The body is not JSON of the expected shape, or a path or query parameter is not valid.
    MalformedRequest,
    /// Another account already uses this username (compared case-insensitively).
    UsernameTaken,
    /// The username or password is wrong (401 at sign-in; 403 when a signed-in user's
    /// re-entered password is wrong, because their session itself is fine).
    InvalidCredentials,
    /// The refresh token is missing, expired, revoked or was already used.
    InvalidRefreshToken,
    /// A reset or verification link, recovery key or recovery code is wrong, was already
    /// used, or expired.
    InvalidToken,
    /// This server sends no mail (`SMTP_URL` is not set): email addresses and reset links by
    /// mail are off.
    EmailDisabled,
    /// No valid access token was presented.
    Unauthenticated,
    /// Signed in, but without the role this needs (the admin API needs `admin`).
    Forbidden,
    /// An admin change needs a fresh step-up: `POST /admin/step-up` first.
    StepUpRequired,
    /// A role of that name exists already.
    RoleExists,
    /// The built-in role `admin` cannot be deleted.
    RoleBuiltIn,
    /// The change would leave no enabled administrator (revoking `admin` from, disabling or
    /// deleting the last one): grant `admin` to someone else first.
    LastAdmin,
    /// An administrator cannot disable their own account.
    CannotDisableSelf,
    /// An operator disabled this account.
    AccountDisabled,
    /// The authenticator-app code or recovery code is wrong or was already used (401 at
    /// sign-in; 403 for a sensitive change, whose session is fine; 400 when confirming).
    InvalidMfaCode,
    /// The sign-in's second-factor step is missing, expired, used, or ended after five wrong
    /// codes: sign in again.
    MfaChallengeExpired,
    /// This change needs the second factor too (`code` or `recovery_code`).
    SecondFactorRequired,
    /// The authenticator app is already on (turn it off first).
    MfaAlreadyEnabled,
    /// There is no authenticator app to confirm or turn off.
    MfaNotEnabled,
    /// The passkey ceremony failed: wrong, unknown, expired or already used.
    InvalidPasskey,
    /// This passkey is already registered.
    PasskeyAlreadyRegistered,
    /// Too many attempts (failed sign-ins for this username or from this address, or
    /// registrations from this address); retry after `Retry-After` seconds.
    TooManyAttempts,
    /// The request came from a browser origin that is not allowed, or a browser called an
    /// endpoint meant for other clients.
    ForbiddenOrigin,
    NotFound,
    /// OpenID Connect is off: `PUBLIC_URL` is not set.
    OidcDisabled,
    /// The authorization or logout request is unknown, expired or was already used.
    RequestNotFound,
    MethodNotAllowed,
    /// The body is larger than 16 KiB.
    PayloadTooLarge,
    /// The body must be `application/json`.
    UnsupportedMediaType,
    /// The database is not reachable or the server is busy right now; retry after
    /// `Retry-After` seconds.
    ServiceUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::ValidationFailed | Self::MalformedRequest | Self::InvalidToken => {
                StatusCode::BAD_REQUEST
            }
            Self::EmailDisabled => StatusCode::CONFLICT,
            Self::UsernameTaken => StatusCode::CONFLICT,
            Self::InvalidCredentials | Self::InvalidRefreshToken | Self::Unauthenticated => {
                StatusCode::UNAUTHORIZED
            }
            Self::InvalidMfaCode | Self::MfaChallengeExpired | Self::InvalidPasskey => {
                StatusCode::UNAUTHORIZED
            }
            Self::ForbiddenOrigin
            | Self::AccountDisabled
            | Self::SecondFactorRequired
            | Self::Forbidden
            | Self::StepUpRequired => StatusCode::FORBIDDEN,
            Self::RoleExists | Self::RoleBuiltIn | Self::LastAdmin | Self::CannotDisableSelf => {
                StatusCode::CONFLICT
            }
            Self::MfaAlreadyEnabled | Self::MfaNotEnabled | Self::PasskeyAlreadyRegistered => {
                StatusCode::CONFLICT
            }
            Self::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound | Self::OidcDisabled | Self::RequestNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::ValidationFailed => "Some fields are not valid.",
            Self::MalformedRequest => {
                "The request does not match the API: check its JSON body, path and query parameters."
            }
            Self::UsernameTaken => "That username is already taken.",
            Self::InvalidCredentials => "Invalid username or password.",
            Self::InvalidRefreshToken => "Your session has expired. Please log in again.",
            Self::InvalidToken => {
                "This link or code is not valid: it may be wrong, used or expired."
            }
            Self::EmailDisabled => "This server does not send email.",
            Self::Unauthenticated => "You need to log in.",
            Self::Forbidden => "You are not allowed to do this.",
            Self::StepUpRequired => {
                "Confirm it is you (password and second factor) before making changes."
            }
            Self::RoleExists => "A role with that name already exists.",
            Self::RoleBuiltIn => "This role is built in and cannot be deleted.",
            Self::LastAdmin => {
                "This is the last administrator. Make someone else an administrator first."
            }
            Self::CannotDisableSelf => "You cannot disable your own account.",
            Self::AccountDisabled => "This account has been disabled. Contact an administrator.",
            Self::InvalidMfaCode => "That code is not right, or it was already used.",
            Self::MfaChallengeExpired => "This sign-in has expired. Please sign in again.",
            Self::SecondFactorRequired => {
                "Enter a code from your authenticator app (or a recovery code) to continue."
            }
            Self::MfaAlreadyEnabled => "Two-factor authentication is already on.",
            Self::MfaNotEnabled => "Two-factor authentication is not on.",
            Self::InvalidPasskey => "The passkey could not be verified. Please try again.",
            Self::PasskeyAlreadyRegistered => "This passkey is already registered.",
            Self::ForbiddenOrigin => "Requests from this origin are not allowed.",
            Self::TooManyAttempts => "Too many attempts. Please wait before trying again.",
            Self::NotFound => "Not found.",
            Self::OidcDisabled => "Sign in with Latchkey is not enabled on this server.",
            Self::RequestNotFound => {
                "This sign-in request has expired or was already used. Go back to the application and try again."
            }
            Self::MethodNotAllowed => "Method not allowed.",
            Self::PayloadTooLarge => "The request body is too large (16 KiB at most).",
            Self::UnsupportedMediaType => {
                "The request body must be JSON (Content-Type: application/json)."
            }
            Self::ServiceUnavailable => {
                "The service is temporarily unavailable. Please retry shortly."
            }
            Self::Internal => "internal error",
        }
    }
}

/// One invalid field.
#[derive(Object, Clone, Debug, PartialEq, Eq)]
pub struct FieldIssue {
    /// The request field, e.g. `username`.
    pub field: String,
    /// Why it was rejected, safe to show next to the field.
    pub message: String,
}

/// Every error response has this shape.
#[derive(Object, Clone, Debug)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence safe to show a person. Never contains input values, tokens or internals.
    pub message: String,
    /// Present with `validation_failed`: each invalid field.
    #[oai(skip_serializing_if_is_none)]
    pub fields: Option<Vec<FieldIssue>>,
}

/// An error body on the wire, with `Retry-After` when the client should wait. Documented in
/// the spec as the `Error` schema; operations declare the header on their 429 and 503.
pub struct ErrorJson {
    body: ErrorBody,
    retry_after: Option<u64>,
}

impl Payload for ErrorJson {
    const CONTENT_TYPE: &'static str = Json::<ErrorBody>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        <ErrorBody as Type>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <ErrorBody as Type>::register(registry);
    }
}

impl IntoResponse for ErrorJson {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `Retry-After` of a 503 whose cause gives no better estimate (a database that did not answer).
const UNAVAILABLE_RETRY_SECS: u64 = 1;

/// An error on its way to becoming a response.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            status: code.status(),
            body: ErrorBody {
                code,
                message: code.message().to_owned(),
                fields: None,
            },
            // A 503 is always "try again": say when, so clients and proxies back off instead
            // of retrying at once (RFC 9110 §10.2.3). Callers that know better override it.
            retry_after: (code == ErrorCode::ServiceUnavailable).then_some(UNAVAILABLE_RETRY_SECS),
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields = errors
            .into_iter()
            .map(|e| FieldIssue {
                field: e.field.to_owned(),
                message: e.message,
            })
            .collect();
        let mut error = Self::new(ErrorCode::ValidationFailed);
        error.body.fields = Some(fields);
        error
    }

    /// Tells the client how long to wait, in whole seconds rounded up (a retry after a
    /// truncated delay would be refused again).
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        self
    }

    /// The same code with another status (a re-entered password is 403, not 401).
    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    pub fn into_json(self) -> ErrorJson {
        ErrorJson {
            body: self.body,
            retry_after: self.retry_after,
        }
    }

    /// Maps a poem / poem-openapi rejection (raised before an operation runs) by its status.
    /// Their texts can name Rust types or echo input, so none of it is forwarded.
    pub fn from_rejection(err: &poem::Error) -> Self {
        let code = match err.status() {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::FORBIDDEN => ErrorCode::ForbiddenOrigin,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::LENGTH_REQUIRED => {
                ErrorCode::PayloadTooLarge
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
            status if status.is_client_error() => ErrorCode::MalformedRequest,
            status => {
                tracing::error!(%status, error = %err, "unhandled rejection");
                ErrorCode::Internal
            }
        };
        Self::new(code)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Validation(errors) => Self::validation(errors),
            AuthError::UsernameTaken => Self::new(ErrorCode::UsernameTaken),
            AuthError::InvalidCredentials => Self::new(ErrorCode::InvalidCredentials),
            AuthError::WrongPassword => {
                Self::new(ErrorCode::InvalidCredentials).with_status(StatusCode::FORBIDDEN)
            }
            AuthError::AccountDisabled => Self::new(ErrorCode::AccountDisabled),
            AuthError::InvalidMfaCode => Self::new(ErrorCode::InvalidMfaCode),
            AuthError::WrongEnrolmentCode => {
                Self::new(ErrorCode::InvalidMfaCode).with_status(StatusCode::BAD_REQUEST)
            }
            AuthError::WrongSecondFactor => {
                Self::new(ErrorCode::InvalidMfaCode).with_status(StatusCode::FORBIDDEN)
            }
            AuthError::MfaChallengeExpired => Self::new(ErrorCode::MfaChallengeExpired),
            AuthError::SecondFactorRequired => Self::new(ErrorCode::SecondFactorRequired),
            AuthError::MfaAlreadyEnabled => Self::new(ErrorCode::MfaAlreadyEnabled),
            AuthError::MfaNotEnabled => Self::new(ErrorCode::MfaNotEnabled),
            AuthError::InvalidPasskey => Self::new(ErrorCode::InvalidPasskey),
            AuthError::InvalidPasskeyRegistration => {
                Self::new(ErrorCode::InvalidPasskey).with_status(StatusCode::BAD_REQUEST)
            }
            AuthError::PasskeyAlreadyRegistered => Self::new(ErrorCode::PasskeyAlreadyRegistered),
            AuthError::InvalidRefreshToken => Self::new(ErrorCode::InvalidRefreshToken),
            AuthError::InvalidToken => Self::new(ErrorCode::InvalidToken),
            AuthError::MailDisabled => Self::new(ErrorCode::EmailDisabled),
            AuthError::TooManyAttempts { retry_after } => {
                Self::new(ErrorCode::TooManyAttempts).retry_after(retry_after)
            }
            AuthError::Busy { retry_after } => {
                refusals::refused(Refusal::HashQueueFull, None);
                Self::new(ErrorCode::ServiceUnavailable).retry_after(retry_after)
            }
            AuthError::Unauthenticated => Self::new(ErrorCode::Unauthenticated),
            AuthError::Forbidden => Self::new(ErrorCode::Forbidden),
            AuthError::StepUpRequired => Self::new(ErrorCode::StepUpRequired),
            AuthError::RoleExists => Self::new(ErrorCode::RoleExists),
            AuthError::RoleBuiltIn => Self::new(ErrorCode::RoleBuiltIn),
            AuthError::LastAdmin => Self::new(ErrorCode::LastAdmin),
            AuthError::CannotDisableSelf => Self::new(ErrorCode::CannotDisableSelf),
            AuthError::NotFound => Self::new(ErrorCode::NotFound),
            AuthError::Storage(StorageError::Unavailable(ref cause)) => {
                refusals::refused(
                    Refusal::DatabaseUnavailable,
                    Some(&Chain(cause).to_string()),
                );
                Self::new(ErrorCode::ServiceUnavailable)
            }
            AuthError::Storage(StorageError::Other(_)) | AuthError::Internal { .. } => {
                tracing::error!(error = %Chain(&e), "internal error");
                Self::new(ErrorCode::Internal)
            }
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::validation(vec![error])
    }
}

/// Runs an operation's body, written once with `?`, and answers with its documented response
/// enum: the body's own response, or the variant for the error's status. Whatever an error must
/// still do (clear a cookie) the body does before it returns the error; the operation itself
/// always returns its enum, never `Err`, so poem keeps what the cookie jar collected.
pub async fn answer<R: From<ApiError>>(body: impl Future<Output = Result<R, ApiError>>) -> R {
    body.await.unwrap_or_else(R::from)
}

/// Used as every operation's `bad_request_handler`.
pub fn rejected<R: From<ApiError>>(err: poem::Error) -> R {
    ApiError::from_rejection(&err).into()
}

/// Declares an operation's response enum: its success variants as written, then one variant
/// per error status listed (`400 => "doc"`, or a bare `413` for the standard wording), always
/// with `500`, and its `From<ApiError>`. 429 and 503 document `Retry-After`. The statuses an
/// operation declares are the ones it can return; an undeclared one becomes a logged 500.
macro_rules! api_response {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($success:tt)* }
        errors { $($errors:tt)* }
    ) => {
        $crate::api::error::api_response!(@build [$(#[$meta])*] $name [$($success)*] [] []
            , $($errors)* , 500 ,);
    };
    // Standard wordings.
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 400 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 400 => "`validation_failed` or `malformed_request`.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 401 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 401 => "`unauthenticated`: no valid access token (try `/refresh`).", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 403 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 403 => "`forbidden_origin`.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 413 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 413 => "`payload_too_large`.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 415 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 415 => "`unsupported_media_type`: send `Content-Type: application/json`.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 429 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 429 => "`too_many_attempts`: wait `Retry-After` seconds.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 500 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 500 => "`internal`.", $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt $v:tt $a:tt , 503 , $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s $v $a , 503 => "`service_unavailable`: nothing changed; retry.", $($rest)*);
    };
    // One variant per status.
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 400 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 400)] BadRequest($crate::api::error::ErrorJson),] [$($a)* 400 => BadRequest,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 401 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 401)] Unauthorized($crate::api::error::ErrorJson),] [$($a)* 401 => Unauthorized,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 403 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 403)] Forbidden($crate::api::error::ErrorJson),] [$($a)* 403 => Forbidden,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 404 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 404)] NotFound($crate::api::error::ErrorJson),] [$($a)* 404 => NotFound,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 409 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 409)] Conflict($crate::api::error::ErrorJson),] [$($a)* 409 => Conflict,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 413 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 413)] PayloadTooLarge($crate::api::error::ErrorJson),] [$($a)* 413 => PayloadTooLarge,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 415 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 415)] UnsupportedMediaType($crate::api::error::ErrorJson),] [$($a)* 415 => UnsupportedMediaType,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 429 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 429, header(name = "Retry-After", ty = "u64", description = "Seconds to wait."))] TooManyRequests($crate::api::error::ErrorJson),] [$($a)* 429 => TooManyRequests,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 500 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 500)] Internal($crate::api::error::ErrorJson),] [$($a)* 500 => Internal,] , $($rest)*);
    };
    (@build $m:tt $n:ident $s:tt [$($v:tt)*] [$($a:tt)*] , 503 => $doc:literal, $($rest:tt)*) => {
        $crate::api::error::api_response!(@build $m $n $s [$($v)* #[doc = $doc] #[oai(status = 503, header(name = "Retry-After", ty = "u64", description = "Seconds to wait."))] Unavailable($crate::api::error::ErrorJson),] [$($a)* 503 => Unavailable,] , $($rest)*);
    };
    // Done: emit the enum and its conversion.
    (@build [$(#[$meta:meta])*] $name:ident [$($success:tt)*] [$($variants:tt)*] [$($arms:tt)*] $(,)*) => {
        #[derive(poem_openapi::ApiResponse)]
        #[oai(bad_request_handler = "crate::api::error::rejected")]
        $(#[$meta])*
        pub enum $name {
            $($success)*
            $($variants)*
        }
        $crate::api::error::error_variants!($name { $($arms)* });
    };
}
pub(crate) use api_response;

/// Implements `From<ApiError>` for an operation's response enum, one variant per documented
/// error status. An undocumented status becomes the 500 variant (and is logged as a bug).
macro_rules! error_variants {
    ($response:ident { $($status:literal => $variant:ident),+ $(,)? }) => {
        impl From<$crate::api::error::ApiError> for $response {
            fn from(error: $crate::api::error::ApiError) -> Self {
                match error.status().as_u16() {
                    $($status => Self::$variant(error.into_json()),)+
                    status => {
                        tracing::error!(status, code = ?error.body().code, "error status not documented for this operation");
                        Self::Internal($crate::api::error::ApiError::new($crate::api::error::ErrorCode::Internal).into_json())
                    }
                }
            }
        }
    };
}
pub(crate) use error_variants;
