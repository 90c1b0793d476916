//! Baseline server for `scripts/bench`: the three floors Latchkey is measured against, served by the
//! same stack (poem, SeaORM over PostgreSQL, argon2 on blocking threads, mimalloc) in one process.
//!
//! - `GET  /bare`   a constant JSON body: the cost of poem + HTTP alone.
//! - `GET  /select` one SeaORM select by primary key: the floor for `/profile`.
//! - `POST /verify` one Argon2id verify (OWASP parameters) behind a semaphore: the floor for `/login`.
//! - `GET  /session` (diagnostic) the exact session-checked query `/profile` runs, on Latchkey's own
//!   tables in the same database, without the rest of Latchkey: tells how much of `/profile` is the
//!   query and how much the application around it.
//!
//! Usage: `baseline [--port 8100] [--database-url postgres://…]` (or `BASELINE_PORT`, `DATABASE_URL`,
//! `BASELINE_DB_MAX_CONNECTIONS`, `HASH_CONCURRENCY`, `BENCH_PASSWORD`). The database gets a `baseline_users` table with
//! 1000 rows; `/select` walks them round-robin.

use std::{
    error::Error,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use poem::{
    EndpointExt, Route, Server, get, handler,
    http::StatusCode,
    listener::TcpListener,
    post,
    web::{Data, Json},
};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    Statement,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

// The same allocator Latchkey uses: glibc's per-thread arenas keep 19 MiB Argon2 blocks alive on every
// blocking thread, mimalloc returns them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The password every `/verify` request is checked against, unless `BENCH_PASSWORD` is set.
const DEFAULT_PASSWORD: &str = "correct horse battery staple";

mod baseline_user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "baseline_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub username: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The statement `auth::sessions::authenticate` sends: the session named by the token's `sid`, live
/// and owned by its `sub` (the identity itself comes from the signed token).
const SESSION_SQL: &str = r#"SELECT "sessions"."id" FROM "sessions" WHERE "sessions"."id" = $1 AND "sessions"."user_id" = $2 AND "sessions"."revoked_at" IS NULL AND "sessions"."absolute_expires_at" > $3 LIMIT $4"#;

struct State {
    db: DatabaseConnection,
    /// (user id, session id) of live Latchkey sessions, loaded at the first `/session` request.
    sessions: tokio::sync::OnceCell<Vec<(uuid::Uuid, uuid::Uuid)>>,
    ids: Vec<uuid::Uuid>,
    next: AtomicUsize,
    hash: Arc<str>,
    permits: Arc<Semaphore>,
}

#[derive(Deserialize)]
struct VerifyRequest {
    password: String,
}

#[handler]
async fn bare() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[handler]
async fn select(state: Data<&Arc<State>>) -> poem::Result<Json<Value>> {
    let n = state.next.fetch_add(1, Ordering::Relaxed);
    let id = state
        .ids
        .get(n % state.ids.len().max(1))
        .copied()
        .unwrap_or_default();
    let user = baseline_user::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(poem::error::InternalServerError)?
        .ok_or_else(|| poem::Error::from_status(StatusCode::NOT_FOUND))?;
    Ok(Json(json!({
        "id": user.id,
        "username": user.username,
        "created_at": user.created_at,
    })))
}

#[handler]
async fn session(state: Data<&Arc<State>>) -> poem::Result<Json<Value>> {
    let sessions = state
        .sessions
        .get_or_try_init(|| async {
            let rows = state
                .db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT user_id, id FROM sessions WHERE revoked_at IS NULL ORDER BY created_at DESC LIMIT 64",
                ))
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("", "user_id")?, r.try_get("", "id")?)))
                .collect::<Result<Vec<(uuid::Uuid, uuid::Uuid)>, DbErr>>()
        })
        .await
        .map_err(poem::error::InternalServerError)?;
    let n = state.next.fetch_add(1, Ordering::Relaxed);
    let (uid, sid) = sessions
        .get(n % sessions.len().max(1))
        .copied()
        .ok_or_else(|| poem::Error::from_status(StatusCode::NOT_FOUND))?;
    let row = state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SESSION_SQL,
            [
                sid.into(),
                uid.into(),
                chrono::Utc::now().into(),
                1u64.into(),
            ],
        ))
        .await
        .map_err(poem::error::InternalServerError)?
        .ok_or_else(|| poem::Error::from_status(StatusCode::UNAUTHORIZED))?;
    let id: uuid::Uuid = row
        .try_get("", "id")
        .map_err(poem::error::InternalServerError)?;
    Ok(Json(json!({ "id": uid, "session": id })))
}

#[handler]
async fn verify(
    state: Data<&Arc<State>>,
    body: Json<VerifyRequest>,
) -> poem::Result<(StatusCode, Json<Value>)> {
    // Bounded hashing concurrency: at most HASH_CONCURRENCY 19 MiB blocks are alive at once.
    let permit = state
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(poem::error::InternalServerError)?;
    let hash = state.hash.clone();
    let password = body.0.password;
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        Argon2::default()
            .verify_password(password.as_bytes(), &*hash)
            .is_ok()
    })
    .await
    .map_err(poem::error::InternalServerError)?;
    if ok {
        Ok((StatusCode::OK, Json(json!({ "ok": true }))))
    } else {
        Ok((StatusCode::UNAUTHORIZED, Json(json!({ "ok": false }))))
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn setting(flag: &str, env: &str, default: &str) -> String {
    arg(flag)
        .or_else(|| std::env::var(env).ok())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = setting("--port", "BASELINE_PORT", "8100").parse()?;
    let url = setting(
        "--database-url",
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/latchkey_bench",
    );
    let max_connections: u32 =
        setting("--db-max-connections", "BASELINE_DB_MAX_CONNECTIONS", "32").parse()?;
    let hash_concurrency: usize = match std::env::var("HASH_CONCURRENCY") {
        Ok(v) => v.parse()?,
        Err(_) => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };

    let mut opts = ConnectOptions::new(url);
    // The pool Latchkey uses on PostgreSQL (backend/src/storage.rs).
    opts.max_connections(max_connections)
        .min_connections(2)
        .test_before_acquire(false)
        .connect_timeout(Duration::from_millis(1500))
        .acquire_timeout(Duration::from_millis(1500))
        .sqlx_logging(false);
    let db = Database::connect(opts).await?;
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS baseline_users (
             id uuid PRIMARY KEY,
             username varchar(32) NOT NULL UNIQUE,
             created_at timestamp with time zone NOT NULL
         );
         INSERT INTO baseline_users (id, username, created_at)
         SELECT gen_random_uuid(), 'user' || g, now() FROM generate_series(1, 1000) AS g
         ON CONFLICT DO NOTHING;",
    )
    .await?;
    let ids: Vec<uuid::Uuid> = baseline_user::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();

    let password = std::env::var("BENCH_PASSWORD").unwrap_or_else(|_| DEFAULT_PASSWORD.to_owned());
    let params = Params::new(
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
        None,
    )?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes())?
        .to_string();

    let state = Arc::new(State {
        db,
        sessions: tokio::sync::OnceCell::new(),
        ids,
        next: AtomicUsize::new(0),
        hash: hash.into(),
        permits: Arc::new(Semaphore::new(hash_concurrency.max(1))),
    });
    let app = Route::new()
        .at("/bare", get(bare))
        .at("/select", get(select))
        .at("/verify", post(verify))
        .at("/session", get(session))
        .data(state);
    eprintln!(
        "baseline listening on 127.0.0.1:{port} (hash concurrency {hash_concurrency}, pool {max_connections})"
    );
    Server::new(TcpListener::bind(("127.0.0.1", port)))
        .run(app)
        .await?;
    Ok(())
}
