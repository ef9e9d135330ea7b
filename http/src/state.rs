//! What every handler shares: the store, accounts and sessions, the cache, the settings,
//! the analysis cache and the background syncs.

use std::sync::Arc;

use bugdash::auth::Auth;
use bugdash::cache::SharedCache;
use bugdash::config::Settings;
use bugdash::service::analysis::AnalysisCache;
use bugdash::service::syncs::SyncRunner;
use bugdash::store::Store;

/// Analyses kept in the in-process cache.
const CACHED_ANALYSES: usize = 256;

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
    pub fn from_parts(
        store: Arc<dyn Store>,
        auth: Auth,
        cache: Arc<SharedCache>,
        settings: Settings,
    ) -> AppState {
        AppState {
            store,
            auth,
            cache,
            settings: Arc::new(settings),
            analyses: Arc::new(AnalysisCache::new(CACHED_ANALYSES)),
            syncs: SyncRunner::new(),
        }
    }
}
