//! Accounts, sessions, API tokens and login limits, on SQLite with the in-process cache
//! and on PostgreSQL with Redis (a fresh database per test, a Redis key prefix per test).
//! Time is a [`ManualClock`]: timeouts are tested by moving it, never by sleeping.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bugdash::auth::{Auth, Client, Clock, ManualClock, NewAccount, Role};
use bugdash::cache::{self, SharedCache};
use bugdash::config::{CacheSettings, Settings};
use bugdash::model::Timestamp;
use bugdash::secret::Secret;
use bugdash::store::accounts::SessionRecord;
use bugdash::store::{PostgresStore, SessionCap, SqliteStore, Store};
use bugdash::Error;

use crate::cache::{redis_cache, unique_prefix, unreachable_redis_cache};
use crate::pg::TestDatabase;

const PASSWORD: &str = "lantern-quarry-velvet";
const JWT_KEY: &str = "test-key-test-key-test-key-test-key-0123";

#[derive(Debug, Clone, Copy)]
enum Backend {
    /// SQLite with the in-process cache.
    Sqlite,
    /// PostgreSQL with Redis.
    Postgres,
}

/// One service on a fresh store, with what keeps the store alive.
struct Harness {
    auth: Auth,
    clock: ManualClock,
    store: Arc<dyn Store>,
    settings: Settings,
    /// Redis key prefix of the PostgreSQL variant.
    prefix: Option<String>,
    _dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

fn default_settings() -> Settings {
    let mut settings = Settings::from_sources(None, None, &|_| None).expect("default settings");
    settings.auth.jwt_secret = Some(Secret::new(JWT_KEY));
    // Generous, so that tests of other things are never throttled.
    settings.limits.login_per_minute = 10_000;
    settings.limits.login_burst = 10_000;
    settings
}

impl Harness {
    async fn new(backend: Backend) -> Harness {
        Harness::with(backend, default_settings()).await
    }

    async fn with(backend: Backend, settings: Settings) -> Harness {
        let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
        let (store, dir, database, prefix, cache): (Arc<dyn Store>, _, _, _, Arc<SharedCache>) =
            match backend {
                Backend::Sqlite => {
                    let dir = tempfile::tempdir().expect("temporary folder");
                    let store = SqliteStore::open(&dir.path().join("store.db")).await.unwrap();
                    store.migrate().await.expect("migrate SQLite");
                    let cache = cache::open(&CacheSettings::default()).await.unwrap();
                    (Arc::new(store), Some(dir), None, None, cache)
                }
                Backend::Postgres => {
                    let database = TestDatabase::create().await;
                    let store = PostgresStore::connect(&database.url).await.unwrap();
                    store.migrate().await.expect("migrate PostgreSQL");
                    let prefix = unique_prefix();
                    let cache = redis_cache(&prefix).await;
                    (Arc::new(store), None, Some(database), Some(prefix), cache)
                }
            };
        let auth = Auth::with_clock(store.clone(), cache, &settings, Arc::new(clock.clone()))
            .await
            .expect("build the auth service");
        Harness { auth, clock, store, settings, prefix, _dir: dir, _database: database }
    }

    /// A second instance sharing this one's store and Redis, as a second server process.
    async fn second_instance(&self) -> Auth {
        let prefix = self.prefix.as_deref().expect("a second instance needs Redis");
        let cache = redis_cache(prefix).await;
        Auth::with_clock(self.store.clone(), cache, &self.settings, Arc::new(self.clock.clone()))
            .await
            .expect("build the second instance")
    }

    async fn account(&self, email: &str, role: Role) -> i64 {
        let new = NewAccount {
            email: email.into(),
            name: "Test Person".into(),
            department: Some("QA".into()),
            role,
            password: Secret::new(PASSWORD),
        };
        self.auth.create_account(new).await.expect("create the account").id
    }

    async fn login(&self, email: &str) -> bugdash::Result<bugdash::auth::LoginOutcome> {
        self.auth.login(email, &Secret::new(PASSWORD), &client("10.0.0.1")).await
    }
}

fn client(addr: &str) -> Client {
    Client { addr: Some(addr.parse::<IpAddr>().unwrap()), user_agent: Some("test".into()) }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(super::Backend::Postgres).await;
            })*
        }
    };
}

on_both_backends!(
    emails_are_unique_whatever_their_case,
    passwords_outside_the_policy_are_refused,
    a_failed_login_says_the_same_whether_or_not_the_account_exists,
    an_idle_session_ends_and_a_used_one_lives_until_its_absolute_timeout,
    the_cap_refuses_new_users_but_not_admins_or_users_already_in,
    logins_racing_for_the_last_places_never_exceed_the_cap,
    logout_disable_revocation_and_a_new_password_end_sessions_and_tokens_at_once,
    tokens_with_a_wrong_algorithm_audience_key_or_expiry_or_tampered_are_refused,
    logins_are_throttled_per_account_and_per_address_with_a_wait,
    a_quick_request_completes_while_passwords_hash,
    role_changes_reach_live_sessions_and_ended_sessions_are_cleaned_up,
    without_a_configured_key_instances_share_a_generated_one,
);

async fn emails_are_unique_whatever_their_case(backend: Backend) {
    let h = Harness::new(backend).await;
    h.account("Ann.Lee@Example.com", Role::User).await;

    let again = NewAccount {
        email: "ann.lee@EXAMPLE.com".into(),
        name: "Ann".into(),
        department: None,
        role: Role::User,
        password: Secret::new(PASSWORD),
    };
    let error = h.auth.create_account(again).await.unwrap_err();

    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    let found = h.auth.account_by_email("ANN.LEE@example.COM").await.unwrap().unwrap();
    assert_eq!(found.email, "Ann.Lee@Example.com");
    assert_eq!(h.auth.accounts().await.unwrap().len(), 1);
}

async fn passwords_outside_the_policy_are_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    let new = |password: &str| NewAccount {
        email: "bo@example.com".into(),
        name: "Bo".into(),
        department: None,
        role: Role::User,
        password: Secret::new(password),
    };

    for (password, words) in
        [("short1!", "8 to 128"), ("Password123", "common"), (&*"x1-".repeat(43), "8 to 128")]
    {
        let error = h.auth.create_account(new(password)).await.unwrap_err();
        assert!(matches!(error, Error::InvalidParameter { .. }), "{error:?}");
        assert!(error.to_string().contains(words), "{password}: {error}");
    }
    assert!(h.auth.accounts().await.unwrap().is_empty());
    assert!(h.auth.create_account(new(PASSWORD)).await.is_ok());
}

async fn a_failed_login_says_the_same_whether_or_not_the_account_exists(backend: Backend) {
    let h = Harness::new(backend).await;
    let id = h.account("cy@example.com", Role::User).await;
    h.account("off@example.com", Role::User).await;
    let off = h.auth.account_by_email("off@example.com").await.unwrap().unwrap();
    h.auth.set_active(off.id, false).await.unwrap();
    let wrong = Secret::new("not-the-password");

    let ok = h.login("CY@example.com").await.unwrap();
    let errors = [
        h.auth.login("cy@example.com", &wrong, &client("10.0.0.2")).await.unwrap_err(),
        h.auth.login("nobody@example.com", &wrong, &client("10.0.0.2")).await.unwrap_err(),
        h.login("nobody@example.com").await.unwrap_err(),
        h.login("off@example.com").await.unwrap_err(),
    ];

    assert_eq!(ok.account.id, id);
    assert_eq!(ok.token.expose().len(), 64);
    assert_eq!(ok.csrf_token.len(), 64);
    let words: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(errors.iter().all(|e| matches!(e, Error::LoginRefused)), "{errors:?}");
    assert!(words.iter().all(|w| *w == words[0]), "{words:?}");
    let who = h.auth.authenticate(ok.token.expose()).await.unwrap().expect("signed in");
    assert_eq!((who.account.id, who.session.id), (id, ok.session.id));
    assert!(who.csrf_matches(&ok.csrf_token));
}

async fn an_idle_session_ends_and_a_used_one_lives_until_its_absolute_timeout(backend: Backend) {
    let h = Harness::new(backend).await;
    h.account("di@example.com", Role::User).await;
    let busy = h.login("di@example.com").await.unwrap();
    let idle = h.login("di@example.com").await.unwrap();
    let is_in = |token: Secret| {
        let auth = h.auth.clone();
        async move { auth.authenticate(token.expose()).await.unwrap().is_some() }
    };

    // Used every 20 minutes for 7 h 40 min: the idle timeout (30 min) never strikes.
    for _ in 0..23 {
        h.clock.advance(Duration::from_secs(20 * 60));
        assert!(is_in(busy.token.clone()).await);
    }
    assert!(!is_in(idle.token.clone()).await, "unused for hours, the session is idle");
    h.clock.advance(Duration::from_secs(19 * 60));
    assert!(is_in(busy.token.clone()).await, "7 h 59 min after login");
    h.clock.advance(Duration::from_secs(60));
    assert!(!is_in(busy.token.clone()).await, "8 h after login");

    let fresh = h.login("di@example.com").await.unwrap();
    h.clock.advance(Duration::from_secs(29 * 60));
    assert!(is_in(fresh.token.clone()).await);
    h.clock.advance(Duration::from_secs(30 * 60 + 1));
    assert!(!is_in(fresh.token.clone()).await);
}

async fn the_cap_refuses_new_users_but_not_admins_or_users_already_in(backend: Backend) {
    let mut settings = default_settings();
    settings.auth.max_concurrent_users = 2;
    let h = Harness::with(backend, settings).await;
    for email in ["u1@example.com", "u2@example.com", "u3@example.com"] {
        h.account(email, Role::User).await;
    }
    h.account("boss@example.com", Role::Admin).await;

    let first = h.login("u1@example.com").await.unwrap();
    h.login("u2@example.com").await.unwrap();
    let refused = h.login("u3@example.com").await.unwrap_err();
    let again = h.login("u1@example.com").await;
    let admin = h.login("boss@example.com").await;

    match refused {
        Error::Capacity { retry_after } => {
            assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}");
            assert!(retry_after <= Duration::from_secs(30 * 60), "{retry_after:?}");
        }
        other => panic!("expected Capacity, got {other:?}"),
    }
    assert!(again.is_ok() && admin.is_ok());
    assert_eq!(h.auth.live_users().await.unwrap(), 3);
    h.auth.set_active(first.account.id, false).await.unwrap();
    let admins_count = h.login("u3@example.com").await;
    assert!(matches!(admins_count, Err(Error::Capacity { .. })), "{admins_count:?}");
    let second = h.auth.account_by_email("u2@example.com").await.unwrap().unwrap();
    h.auth.set_active(second.id, false).await.unwrap();
    assert!(h.login("u3@example.com").await.is_ok(), "a place freed up");
}

/// Straight at the store, so that password hashing does not space the logins out: twelve
/// users start sessions at once for five places.
async fn logins_racing_for_the_last_places_never_exceed_the_cap(backend: Backend) {
    let h = Harness::new(backend).await;
    let now = Timestamp::from_millis(1_800_000_000_000);
    let cap = SessionCap { users: 5, now, idle_since: Timestamp::from_millis(now.millis() - 1) };
    let mut accounts = Vec::new();
    for n in 0..12 {
        accounts.push(h.account(&format!("racer{n}@example.com"), Role::User).await);
    }
    let session = |account_id: i64, n: usize| SessionRecord {
        id: 0,
        account_id,
        token_hash: format!("{n:064x}"),
        csrf_token: format!("csrf-{n}"),
        created_at: now,
        last_seen_at: now,
        expires_at: Timestamp::from_millis(now.millis() + 3_600_000),
        client_addr: None,
        user_agent: None,
        revoked_at: None,
    };

    let racers = accounts.iter().enumerate().map(|(n, &account_id)| {
        let store = Arc::clone(&h.store);
        let record = session(account_id, n);
        tokio::spawn(async move { store.insert_session(&record, Some(&cap)).await })
    });
    let mut admitted = 0;
    for racer in racers.collect::<Vec<_>>() {
        admitted += usize::from(racer.await.unwrap().unwrap().is_some());
    }

    assert_eq!(admitted, 5);
    let (users, _) =
        h.store.live_users(now, cap.idle_since, Duration::from_secs(60)).await.unwrap();
    assert_eq!(users, 5);
    // A user already in takes no new place; without a cap everyone gets in.
    let mut again = 0;
    for (n, &account_id) in accounts.iter().enumerate() {
        let record = session(account_id, 100 + n);
        again += usize::from(h.store.insert_session(&record, Some(&cap)).await.unwrap().is_some());
    }
    assert_eq!(again, 5, "exactly the five users already in start another session");
    let uncapped = session(accounts[11], 200);
    assert!(h.store.insert_session(&uncapped, None).await.unwrap().is_some());
}

async fn logout_disable_revocation_and_a_new_password_end_sessions_and_tokens_at_once(
    backend: Backend,
) {
    let h = Harness::new(backend).await;
    let id = h.account("ed@example.com", Role::User).await;
    let other = h.account("fi@example.com", Role::User).await;
    let instances = match backend {
        Backend::Postgres => vec![h.auth.clone(), h.second_instance().await],
        Backend::Sqlite => vec![h.auth.clone()],
    };
    let live = |token: &str| {
        let (token, instances) = (token.to_owned(), instances.clone());
        async move {
            let mut answers = vec![];
            for auth in &instances {
                let cookie = auth.authenticate(&token).await.unwrap();
                answers.push(cookie.is_some());
            }
            answers
        }
    };
    let bearer_live = |jwt: &str| {
        let (jwt, instances) = (jwt.to_owned(), instances.clone());
        async move {
            let mut answers = vec![];
            for auth in &instances {
                answers.push(auth.authenticate_bearer(&jwt).await.unwrap().is_some());
            }
            answers
        }
    };
    let all = |n: bool| vec![n; instances.len()];

    // Logout, seen by every instance (each has cached the session first).
    let a = h.login("ed@example.com").await.unwrap();
    let who = h.auth.authenticate(a.token.expose()).await.unwrap().unwrap();
    let jwt = h.auth.issue_token(&who).await.unwrap();
    assert_eq!((live(a.token.expose()).await, bearer_live(&jwt).await), (all(true), all(true)));
    instances.last().unwrap().logout(a.token.expose()).await.unwrap();
    assert_eq!((live(a.token.expose()).await, bearer_live(&jwt).await), (all(false), all(false)));

    // Revocation of one session leaves the other.
    let b = h.login("ed@example.com").await.unwrap();
    let c = h.login("ed@example.com").await.unwrap();
    assert_eq!(live(b.token.expose()).await, all(true));
    assert!(!h.auth.revoke_session(other, b.session.id).await.unwrap(), "not fi's session");
    assert!(h.auth.revoke_session(id, b.session.id).await.unwrap());
    assert_eq!(
        (live(b.token.expose()).await, live(c.token.expose()).await),
        (all(false), all(true))
    );
    let listed = h.auth.sessions(id).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [c.session.id]);

    // A new password ends the rest; so does disabling.
    h.auth.set_password(id, Secret::new("new-lantern-quarry")).await.unwrap();
    assert_eq!(live(c.token.expose()).await, all(false));
    let new_password = Secret::new("new-lantern-quarry");
    let d = h.auth.login("ed@example.com", &new_password, &client("10.0.0.1")).await.unwrap();
    let who = h.auth.authenticate(d.token.expose()).await.unwrap().unwrap();
    let jwt = h.auth.issue_token(&who).await.unwrap();
    assert_eq!(bearer_live(&jwt).await, all(true));
    h.auth.set_active(id, false).await.unwrap();
    assert_eq!((live(d.token.expose()).await, bearer_live(&jwt).await), (all(false), all(false)));
}

/// A JWT signed with `key` and `alg` over `claims`, built by hand.
fn jwt(alg: jsonwebtoken::Algorithm, key: &str, claims: &serde_json::Value) -> String {
    let header = jsonwebtoken::Header::new(alg);
    let key = jsonwebtoken::EncodingKey::from_secret(key.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

async fn tokens_with_a_wrong_algorithm_audience_key_or_expiry_or_tampered_are_refused(
    backend: Backend,
) {
    let h = Harness::new(backend).await;
    let id = h.account("gu@example.com", Role::User).await;
    let login = h.login("gu@example.com").await.unwrap();
    let who = h.auth.authenticate(login.token.expose()).await.unwrap().unwrap();
    let good = h.auth.issue_token(&who).await.unwrap();
    let now = h.clock.now().millis() / 1000;
    let claims = |aud: &str, exp: i64| {
        serde_json::json!({"sub": id.to_string(), "sid": login.session.id, "aud": aud,
                           "iat": now, "nbf": now, "exp": exp})
    };
    let payload = serde_json::to_vec(&claims("bugdash", now + 600)).unwrap();
    let none = format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), base64url(&payload));
    let mut tampered = good.clone();
    let middle = tampered.find('.').unwrap() + 5;
    let flipped = if &tampered[middle..=middle] == "A" { "B" } else { "A" };
    tampered.replace_range(middle..=middle, flipped);

    let refused = [
        none,
        jwt(jsonwebtoken::Algorithm::HS384, JWT_KEY, &claims("bugdash", now + 600)),
        jwt(
            jsonwebtoken::Algorithm::HS256,
            "another-key-another-key-another-key",
            &claims("bugdash", now + 600),
        ),
        jwt(jsonwebtoken::Algorithm::HS256, JWT_KEY, &claims("elsewhere", now + 600)),
        jwt(jsonwebtoken::Algorithm::HS256, JWT_KEY, &claims("bugdash", now - 1)),
        tampered,
        "not.a.token".into(),
    ];

    for (i, token) in refused.iter().enumerate() {
        assert!(h.auth.authenticate_bearer(token).await.unwrap().is_none(), "token {i} accepted");
    }
    let hand_made = jwt(jsonwebtoken::Algorithm::HS256, JWT_KEY, &claims("bugdash", now + 600));
    assert!(h.auth.authenticate_bearer(&hand_made).await.unwrap().is_some());
    assert!(h.auth.authenticate_bearer(&good).await.unwrap().is_some());
    h.clock.advance(Duration::from_secs(15 * 60));
    assert!(h.auth.authenticate_bearer(&good).await.unwrap().is_none(), "expired after 15 min");
}

async fn logins_are_throttled_per_account_and_per_address_with_a_wait(backend: Backend) {
    let mut settings = default_settings();
    settings.limits.login_per_minute = 5;
    settings.limits.login_burst = 3;
    settings.limits.api_per_minute = 100;
    settings.limits.api_burst = 20;
    let h = Harness::with(backend, settings).await;
    h.account("ha@example.com", Role::User).await;
    let wrong = Secret::new("wrong-password!");

    for n in 0..3 {
        let error = h.auth.login("ha@example.com", &wrong, &client(&format!("10.1.0.{n}"))).await;
        assert!(matches!(error, Err(Error::LoginRefused)), "{error:?}");
    }
    let right = Secret::new(PASSWORD);
    let throttled = h.auth.login("HA@example.com", &right, &client("10.1.0.9")).await.unwrap_err();
    let mut by_address = vec![];
    for n in 0..4 {
        let email = format!("nobody{n}@example.com");
        by_address.push(h.auth.login(&email, &wrong, &client("10.2.0.1")).await.unwrap_err());
    }

    match throttled {
        Error::RateLimited { retry_after } => {
            assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(12));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(matches!(by_address[2], Error::LoginRefused), "{:?}", by_address[2]);
    assert!(matches!(by_address[3], Error::RateLimited { .. }), "{:?}", by_address[3]);
    let mut api = vec![];
    for _ in 0..21 {
        api.push(h.auth.rate_limit_api(77).await.unwrap().allowed);
    }
    assert_eq!(api.iter().filter(|allowed| **allowed).count(), 20);
    assert!(!api[20]);
}

async fn a_quick_request_completes_while_passwords_hash(backend: Backend) {
    let h = Harness::new(backend).await;
    let (started, hashed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    const HASHES: usize = 8;

    let mut running = vec![];
    for n in 0..HASHES {
        let (auth, started, hashed) = (h.auth.clone(), started.clone(), hashed.clone());
        running.push(tokio::spawn(async move {
            started.fetch_add(1, Ordering::SeqCst);
            let new = NewAccount {
                email: format!("bulk{n}@example.com"),
                name: "Bulk".into(),
                department: None,
                role: Role::User,
                password: Secret::new(PASSWORD),
            };
            auth.create_account(new).await.unwrap();
            hashed.fetch_add(1, Ordering::SeqCst);
        }));
    }
    // Every hashing request is under way before the quick one is sent; were hashing done
    // on the async workers, the last of them would only start once others had finished.
    while started.load(Ordering::SeqCst) < HASHES {
        tokio::task::yield_now().await;
    }
    let quick = {
        let (auth, hashed) = (h.auth.clone(), hashed.clone());
        tokio::spawn(async move {
            let found = auth.account_by_email("nobody@example.com").await.unwrap();
            (found, hashed.load(Ordering::SeqCst))
        })
    };
    let (found, hashed_when_quick_was_done) = quick.await.unwrap();
    for task in running {
        task.await.unwrap();
    }

    assert!(found.is_none());
    // Were hashing done on the async workers, at least 6 of 8 hashes would be done before the
    // last hashing request even started.
    assert!(
        hashed_when_quick_was_done < HASHES / 2,
        "the quick request waited for {hashed_when_quick_was_done} of {HASHES} hashes"
    );
    assert_eq!(hashed.load(Ordering::SeqCst), HASHES);
}

async fn role_changes_reach_live_sessions_and_ended_sessions_are_cleaned_up(backend: Backend) {
    let h = Harness::new(backend).await;
    let id = h.account("jo@example.com", Role::User).await;
    let login = h.login("jo@example.com").await.unwrap();
    let before = h.auth.authenticate(login.token.expose()).await.unwrap().unwrap();
    h.login("jo@example.com").await.unwrap();
    let other = h.login("jo@example.com").await.unwrap();
    h.auth.logout(other.token.expose()).await.unwrap();

    h.auth.set_role(id, Role::Admin).await.unwrap();
    let after = h.auth.authenticate(login.token.expose()).await.unwrap().unwrap();
    let listed = h.auth.sessions_of(&after).await.unwrap();
    h.clock.advance(Duration::from_secs(31 * 60));
    let cleaned = h.auth.cleanup_expired().await.unwrap();

    assert!(!before.is_admin() && after.is_admin());
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert_eq!(cleaned, 3, "one logged out, two idle");
    assert_eq!(h.auth.live_users().await.unwrap(), 0);
    assert!(matches!(h.auth.set_role(999, Role::User).await, Err(Error::NotFound { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_logins_and_sessions_work_and_limits_still_hold() {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect(&database.url).await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let mut settings = default_settings();
    settings.limits.login_per_minute = 5;
    settings.limits.login_burst = 3;
    let cache = unreachable_redis_cache().await;
    let auth = Auth::new(store, cache.clone(), &settings).await.unwrap();
    let new = NewAccount {
        email: "ka@example.com".into(),
        name: "Ka".into(),
        department: None,
        role: Role::User,
        password: Secret::new(PASSWORD),
    };
    auth.create_account(new).await.unwrap();

    let login = auth.login("ka@example.com", &Secret::new(PASSWORD), &client("10.3.0.1")).await;
    let login = login.unwrap();
    let who = auth.authenticate(login.token.expose()).await.unwrap();
    let mut attempts = vec![];
    for _ in 0..3 {
        let wrong = Secret::new("wrong-password!");
        attempts.push(auth.login("ka@example.com", &wrong, &client("10.3.0.2")).await);
    }
    auth.logout(login.token.expose()).await.unwrap();
    let after_logout = auth.authenticate(login.token.expose()).await.unwrap();

    assert!(cache.status().degraded);
    assert!(who.is_some());
    assert!(matches!(attempts[1], Err(Error::LoginRefused)), "{:?}", attempts[1]);
    assert!(matches!(attempts[2], Err(Error::RateLimited { .. })), "{:?}", attempts[2]);
    assert!(after_logout.is_none());
}

async fn without_a_configured_key_instances_share_a_generated_one(backend: Backend) {
    let mut settings = default_settings();
    settings.auth.jwt_secret = None;
    let h = Harness::with(backend, settings.clone()).await;
    h.account("lu@example.com", Role::User).await;
    let cache = cache::open(&CacheSettings::default()).await.unwrap();
    let clock = Arc::new(h.clock.clone());
    let second = Auth::with_clock(h.store.clone(), cache, &settings, clock).await.unwrap();

    let login = h.login("lu@example.com").await.unwrap();
    let who = h.auth.authenticate(login.token.expose()).await.unwrap().unwrap();
    let token = h.auth.issue_token(&who).await.unwrap();
    let foreign = jwt(jsonwebtoken::Algorithm::HS256, JWT_KEY, &serde_json::json!({}));

    let seen = second.authenticate_bearer(&token).await.unwrap().expect("the same key");
    assert_eq!(seen.session.id, login.session.id);
    assert!(second.authenticate_bearer(&foreign).await.unwrap().is_none());
}

/// Without Redis each process caches sessions for itself; a disable made by another
/// process (`bugdash users disable` beside a running service) was honoured by the
/// service's cache for a minute. It must be seen within the local cache's second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_disable_by_another_process_is_seen_within_a_second() {
    let h = Harness::new(Backend::Sqlite).await;
    let id = h.account("cli@example.com", Role::User).await;
    let login = h.login("cli@example.com").await.unwrap();
    let token = login.token.expose().to_owned();
    assert!(h.auth.authenticate(&token).await.unwrap().is_some(), "cached now");
    let cache = cache::open(&CacheSettings::default()).await.unwrap();
    let clock = Arc::new(h.clock.clone());
    let other_process = Auth::with_clock(h.store.clone(), cache, &h.settings, clock).await.unwrap();

    other_process.set_active(id, false).await.unwrap();
    tokio::time::sleep(bugdash::auth::LOCAL_CACHE_TTL + Duration::from_millis(200)).await;

    assert!(h.auth.authenticate(&token).await.unwrap().is_none());
}

/// An admin could disable or demote itself as the only admin, leaving nobody able to
/// manage accounts through the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_admin_can_be_neither_disabled_nor_demoted() {
    let h = Harness::new(Backend::Sqlite).await;
    let boss = h.account("boss@example.com", Role::Admin).await;

    let disabled = h.auth.set_active(boss, false).await;
    let demoted = h.auth.set_role(boss, Role::User).await;
    let deputy = h.account("deputy@example.com", Role::Admin).await;
    let demoted_with_a_deputy = h.auth.set_role(boss, Role::User).await;
    let deputy_disabled = h.auth.set_active(deputy, false).await;

    assert!(matches!(disabled, Err(Error::Conflict { .. })), "{disabled:?}");
    assert!(matches!(demoted, Err(Error::Conflict { .. })), "{demoted:?}");
    assert!(demoted_with_a_deputy.is_ok(), "{demoted_with_a_deputy:?}");
    assert!(matches!(deputy_disabled, Err(Error::Conflict { .. })), "{deputy_disabled:?}");
}
