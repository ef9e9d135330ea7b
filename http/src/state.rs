//! What every handler shares: the store, accounts and sessions, the cache, the settings,
//! the analysis cache and the background syncs.

use std::sync::Arc;
use std::time::Duration;

use bugdash::analytics::{Recorder, RecorderConfig};
use bugdash::auth::Auth;
use bugdash::cache::SharedCache;
use bugdash::config::Settings;
use bugdash::metrics::Metrics;
use bugdash::service::analysis::AnalysisCache;
use bugdash::service::syncs::SyncRunner;
use bugdash::store::Store;

/// Analyses kept in the in-process cache.
pub const CACHED_ANALYSES: usize = 256;

/// How long one read of the projects' data versions serves the analysis requests that
/// follow it (see [`AnalysisCache::with_version_memo`]): a sync or import, on this
/// instance or another, is seen by the analysis endpoints within this bound plus one
/// database round trip. Under load it turns a database read per request into one per
/// this while; a person cannot tell 50 ms apart from at once.
pub const DATA_VERSION_MEMO: Duration = Duration::from_millis(50);

/// The service's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Where issues, accounts and sessions live.
    pub store: Arc<dyn Store>,
    /// Accounts, sessions, tokens and limits.
    pub auth: Auth,
    /// Redis or the in-process cache.
    pub cache: Arc<SharedCache>,
    /// The settings the service started with.
    pub settings: Arc<Settings>,
    /// Analysis results by project data version and options.
    pub analyses: Arc<AnalysisCache>,
    /// Background syncs started through the API.
    pub syncs: Arc<SyncRunner>,
    /// Usage events of authenticated requests; `None` turns recording off.
    pub recorder: Option<Recorder>,
    /// The Prometheus registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
    /// When the service started, for its uptime.
    pub started: std::time::Instant,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("backend", &self.store.backend()).finish_non_exhaustive()
    }
}

impl AppState {
    /// The state over `store` with the cache `settings` select and an [`Auth`] over both.
    pub async fn new(store: Arc<dyn Store>, settings: Settings) -> bugdash::Result<AppState> {
        let cache = bugdash::cache::open(&settings.cache).await?;
        let auth = Auth::new(Arc::clone(&store), Arc::clone(&cache), &settings).await?;
        Ok(AppState::from_parts(store, auth, cache, settings))
    }

    /// The state from parts made elsewhere (tests bring an [`Auth`] on a manual clock).
    /// Starts the usage recorder, so it needs a Tokio runtime.
    pub fn from_parts(
        store: Arc<dyn Store>,
        auth: Auth,
        cache: Arc<SharedCache>,
        settings: Settings,
    ) -> AppState {
        let store_for_events = Arc::clone(&store);
        AppState {
            store,
            auth,
            cache,
            settings: Arc::new(settings),
            analyses: Arc::new(AnalysisCache::with_version_memo(
                CACHED_ANALYSES,
                DATA_VERSION_MEMO,
            )),
            syncs: SyncRunner::new(),
            recorder: Some(Recorder::start(store_for_events, RecorderConfig::default())),
            metrics: Arc::new(Metrics::new()),
            started: std::time::Instant::now(),
        }
    }
}
