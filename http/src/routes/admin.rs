//! Admin routes: accounts, syncs and the system status. Every handler takes an
//! [`AdminUser`], so a user gets 403 and an anonymous caller 401.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bugdash::auth::{Account, NewAccount, Role};
use bugdash::cache::CacheStatus;
use bugdash::secret::Secret;
use bugdash::service::options::project_key;
use bugdash::service::syncs::{RunningSync, SyncStatus};
use bugdash::store::Backend;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AdminUser, ApiJson, ApiPath, QueryPairs};
use crate::state::AppState;

/// `GET /api/admin/users` answer.
#[derive(Debug, Serialize)]
pub struct AccountList {
    /// Every account.
    pub users: Vec<Account>,
}

/// Every account.
pub async fn users(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<AccountList>> {
    Ok(Json(AccountList { users: state.auth.accounts().await? }))
}

/// `POST /api/admin/users` body (no `Debug`: it holds a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Email, unique without regard to case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// `user` (default) or `admin`.
    #[serde(default)]
    pub role: Option<Role>,
    /// Initial password.
    pub password: String,
}

/// Creates an account.
pub async fn create_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(user): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let new = NewAccount {
        email: user.email,
        name: user.name,
        department: user.department,
        role: user.role.unwrap_or(Role::User),
        password: Secret::new(user.password),
    };
    let account = state.auth.create_account(new).await?;
    tracing::info!(by = admin.who.account.id, account = account.id, "account created");
    Ok((StatusCode::CREATED, Json(account)))
}

/// `PATCH /api/admin/users/{id}` body: any of the fields (no `Debug`: it may hold a
/// password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Enable or disable (disabling ends the account's sessions at once).
    #[serde(default)]
    pub active: Option<bool>,
    /// New password (ends the account's sessions).
    #[serde(default)]
    pub password: Option<String>,
}

/// Changes an account's role, active flag or password.
pub async fn update_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<Account>> {
    let missing = || ApiError::NotFound(format!("there is no account {id}"));
    state.auth.account(id).await?.ok_or_else(missing)?;
    if let Some(password) = change.password {
        state.auth.set_password(id, Secret::new(password)).await?;
    }
    if let Some(role) = change.role {
        state.auth.set_role(id, role).await?;
    }
    if let Some(active) = change.active {
        state.auth.set_active(id, active).await?;
    }
    tracing::info!(by = admin.who.account.id, account = id, "account changed");
    Ok(Json(state.auth.account(id).await?.ok_or_else(missing)?))
}

/// `POST /api/admin/projects/{key}/sync` answer.
#[derive(Debug, Serialize)]
pub struct SyncStarted {
    /// The sync now running.
    pub started: RunningSync,
}

/// Starts a background sync of a project (`?full=true` for a full one); 409 when one runs.
pub async fn start_sync(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(key): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<(StatusCode, Json<SyncStarted>)> {
    let key = project_key(&key).map_err(|m| bugdash::Error::invalid("project key", m))?;
    let mut full = false;
    for (name, value) in &pairs {
        match (name.as_str(), value.as_str()) {
            ("full", "true" | "1" | "") => full = true,
            ("full", "false" | "0") => full = false,
            _ => {
                return Err(bugdash::Error::invalid(name, "expected full=true or full=false").into())
            }
        }
    }
    let started = state.syncs.start(state.store.clone(), &state.settings, &key, full).await?;
    tracing::info!(by = admin.who.account.id, project = %key, full, "sync started");
    Ok((StatusCode::ACCEPTED, Json(SyncStarted { started })))
}

/// Running syncs and the latest runs.
pub async fn sync_status(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<SyncStatus>> {
    Ok(Json(state.syncs.status(state.store.as_ref(), 20).await?))
}

/// `GET /api/system/status` answer.
#[derive(Debug, Serialize)]
pub struct SystemStatus {
    /// The service's version.
    pub version: &'static str,
    /// The store's database.
    pub database: Backend,
    /// The cache, and whether it is degraded.
    pub cache: CacheStatus,
    /// Distinct users with live sessions.
    pub live_users: u64,
    /// Reports in the in-process analysis cache.
    pub cached_analyses: usize,
}

/// The state of the database, the cache and the sessions.
pub async fn system_status(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<SystemStatus>> {
    Ok(Json(SystemStatus {
        version: env!("CARGO_PKG_VERSION"),
        database: state.store.backend(),
        cache: state.cache.status(),
        live_users: state.auth.live_users().await?,
        cached_analyses: state.analyses.len(),
    }))
}
