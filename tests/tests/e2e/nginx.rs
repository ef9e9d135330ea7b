//! Two `bugdash serve` processes on one PostgreSQL database and one Redis, behind a real
//! nginx on 127.0.0.1, as `deploy/` runs them: a session made through nginx is honoured by
//! both instances, the API rate limit is one budget whichever instance answers, and each
//! scheduled job runs once for its slot.
//!
//! nginx is Debian's package (`scripts/test` installs it); when it is missing the tests
//! fail saying what to install, they never skip. The generated nginx configuration keeps
//! everything (pid, logs, temporary files) in the test's own folder and adds the address
//! of the instance that answered as `X-Upstream`, so that the tests can see requests land
//! on both instances.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::binary;
use crate::pg::TestDatabase;

const USER: &str = "nginx-user@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// A port of 127.0.0.1 that nothing listened on a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Waits until something listens on `port`, or panics with `what` and its log.
async fn wait_listening(port: u16, what: &str, log: &Path) {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not listen on 127.0.0.1:{port}; its log:\n{text}");
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nginx binary: `BUGDASH_TEST_NGINX`, else `nginx` on PATH, else Debian's place for it
/// (`/usr/sbin` is not on the PATH of ordinary users).
fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BUGDASH_TEST_NGINX") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "BUGDASH_TEST_NGINX names no file: {}", path.display());
        return path;
    }
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("nginx")).collect())
        .unwrap_or_default();
    let debian = [PathBuf::from("/usr/sbin/nginx")];
    match on_path.into_iter().chain(debian).find(|path| path.is_file()) {
        Some(path) => path,
        None => panic!(
            "nginx is missing: the nginx test never skips. Install Debian's package \
             (apt-get install nginx), run scripts/test as root (it installs it), or \
             set BUGDASH_TEST_NGINX to an nginx binary"
        ),
    }
}

/// The nginx configuration for the test: the same proxying as `deploy/nginx/bugdash.conf`
/// on plain HTTP, everything kept in `folder`, one worker process of the calling user.
fn nginx_config(folder: &Path, port: u16, instances: &[u16]) -> String {
    let dir = folder.display();
    let servers: String =
        instances.iter().map(|p| format!("        server 127.0.0.1:{p};\n")).collect();
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {dir}/nginx.pid;\n\
         error_log {dir}/nginx-error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         access_log {dir}/nginx-access.log;\n\
         client_body_temp_path {dir}/body;\n    proxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\n    uwsgi_temp_path {dir}/uwsgi;\n\
         scgi_temp_path {dir}/scgi;\n\
         upstream bugdash {{\n{servers}        keepalive 8;\n    }}\n\
         server {{\n        listen 127.0.0.1:{port};\n\
         location / {{\n\
         proxy_pass http://bugdash;\n\
         proxy_http_version 1.1;\n\
         proxy_set_header Connection \"\";\n\
         proxy_set_header Host $host;\n\
         proxy_set_header X-Real-IP $remote_addr;\n\
         proxy_set_header X-Forwarded-For $remote_addr;\n\
         proxy_set_header X-Forwarded-Proto $scheme;\n\
         proxy_set_header X-Forwarded-Host $host;\n\
         add_header X-Upstream $upstream_addr always;\n\
         }}\n    }}\n}}\n"
    )
}

/// PostgreSQL, a Redis of its own, two instances and nginx in front of them.
struct Stack {
    /// `http://127.0.0.1:<nginx port>`.
    base: String,
    /// The instances' own ports, to ask one past nginx.
    instances: [u16; 2],
    http: reqwest::Client,
    database: TestDatabase,
    // Dropped in this order: nginx, the instances, Redis, then the folder.
    _nginx: Killed,
    _bugdash: Vec<Killed>,
    _redis: Killed,
    _folder: tempfile::TempDir,
}

impl Stack {
    /// Starts everything; `limits` are extra settings given to both instances.
    async fn start(limits: &[(&str, &str)]) -> Stack {
        let nginx = nginx_binary();
        let folder = tempfile::tempdir().expect("a temporary folder");
        let database = TestDatabase::create().await;
        let (redis, redis_port) = start_redis(folder.path()).await;
        let mut settings = vec![
            ("DATABASE_URL", database.url.clone()),
            ("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/0")),
            ("BUGDASH_TRUST_PROXY", "true".to_owned()),
            ("SECRET_KEY", "nginx-test-secret-key-0123456789abcdef-0123456789".to_owned()),
            ("JWT_SECRET_KEY", "nginx-test-jwt-key-0123456789abcdef-0123456789ab".to_owned()),
        ];
        settings.extend(limits.iter().map(|(name, value)| (*name, (*value).to_owned())));
        add_user(folder.path(), &settings);

        let instances = [free_port(), free_port()];
        let mut bugdash = Vec::new();
        for (port, name) in instances.iter().zip(["instance-a", "instance-b"]) {
            bugdash.push(start_instance(folder.path(), &settings, *port, name).await);
        }
        let port = free_port();
        let nginx = start_nginx(&nginx, folder.path(), port, &instances).await;
        Stack {
            base: format!("http://127.0.0.1:{port}"),
            instances,
            http: reqwest::Client::new(),
            database,
            _nginx: nginx,
            _bugdash: bugdash,
            _redis: redis,
            _folder: folder,
        }
    }

    /// Signs in through nginx; returns the `bugdash_session=…` cookie pair.
    async fn login(&self) -> String {
        let body = json!({"email": USER, "password": PASSWORD});
        let url = format!("{}/api/auth/login", self.base);
        let response = self.http.post(url).json(&body).send().await.expect("login sent");
        assert_eq!(response.status(), 200, "login through nginx");
        let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
        cookie.split(';').next().expect("name=value").to_owned()
    }

    /// GET `path` through nginx with the cookie: the status and the instance that answered.
    async fn get(&self, cookie: &str, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(url).header("cookie", cookie).send().await.expect("sent");
        let upstream = response.headers().get("x-upstream").expect("nginx adds X-Upstream");
        let upstream = upstream.to_str().expect("ascii").to_owned();
        (response.status().as_u16(), upstream)
    }

    /// GET `path` from one instance directly, past nginx.
    async fn get_direct(&self, port: u16, cookie: &str, path: &str) -> u16 {
        let url = format!("http://127.0.0.1:{port}{path}");
        let response = self.http.get(url).header("cookie", cookie).send().await.expect("sent");
        response.status().as_u16()
    }
}

async fn start_redis(folder: &Path) -> (Killed, u16) {
    let port = free_port();
    let log = folder.join("redis.log");
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::fs::File::create(&log).expect("a log file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs (install Redis: apt-get install redis-server)");
    let child = Killed(child);
    wait_listening(port, "redis-server", &log).await;
    (child, port)
}

/// Creates the test's account with `bugdash users add`, which also migrates the database.
fn add_user(folder: &Path, settings: &[(&str, String)]) {
    let output = binary::command(folder, settings)
        .args(["users", "add", "--email", USER, "--name", "Nginx Test"])
        .args(["--password", PASSWORD])
        .output()
        .expect("bugdash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bugdash users add failed:\n{stderr}");
}

/// One `bugdash serve` on `port`; `HOSTNAME` names it in `job_runs`.
async fn start_instance(
    folder: &Path,
    settings: &[(&str, String)],
    port: u16,
    name: &str,
) -> Killed {
    let log = folder.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).expect("a log file");
    let child = binary::command(folder, settings)
        .env("BUGDASH_BIND", format!("127.0.0.1:{port}"))
        .env("HOSTNAME", name)
        .arg("serve")
        .stdout(file.try_clone().expect("the log file again"))
        .stderr(file)
        .spawn()
        .expect("bugdash serve starts");
    let child = Killed(child);
    wait_listening(port, name, &log).await;
    child
}

async fn start_nginx(binary: &Path, folder: &Path, port: u16, instances: &[u16]) -> Killed {
    let config = folder.join("nginx.conf");
    std::fs::write(&config, nginx_config(folder, port, instances)).expect("write nginx.conf");
    let log = folder.join("nginx-error.log");
    let nginx = |extra: &[&str]| {
        let mut command = Command::new(binary);
        command.arg("-p").arg(folder).arg("-c").arg(&config).arg("-e").arg(&log).args(extra);
        command
    };
    let test = nginx(&["-t"]).output().expect("nginx -t runs");
    assert!(
        test.status.success(),
        "nginx -t refuses the test configuration:\n{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let child = nginx(&[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nginx");
    let child = Killed(child);
    wait_listening(port, "nginx", &log).await;
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_through_nginx_works_on_both_instances() {
    let stack = Stack::start(&[]).await;
    let cookie = stack.login().await;

    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(stack.get(&cookie, "/api/auth/me").await);
    }
    let direct = [
        stack.get_direct(stack.instances[0], &cookie, "/api/auth/me").await,
        stack.get_direct(stack.instances[1], &cookie, "/api/auth/me").await,
    ];

    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    let upstreams: BTreeSet<&str> = answers.iter().map(|(_, up)| up.as_str()).collect();
    assert_eq!(statuses, [200; 6]);
    assert_eq!(upstreams.len(), 2, "requests landed on {upstreams:?}, not on both instances");
    assert_eq!(direct, [200, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_burst_spent_through_nginx_is_refused_by_both_instances() {
    // One request a minute after the burst: nothing refills while the test runs.
    let limits = [("RATE_LIMIT_API_PER_MINUTE", "1"), ("RATE_LIMIT_API_BURST", "4")];
    let stack = Stack::start(&limits).await;
    let cookie = stack.login().await;

    let mut burst = Vec::new();
    for _ in 0..4 {
        burst.push(stack.get(&cookie, "/api/auth/me").await);
    }
    let mut after = Vec::new();
    for _ in 0..2 {
        after.push(stack.get(&cookie, "/api/auth/me").await);
    }

    let statuses = |answers: &[(u16, String)]| answers.iter().map(|a| a.0).collect::<Vec<_>>();
    let upstreams: BTreeSet<&str> = burst.iter().map(|(_, up)| up.as_str()).collect();
    let refused_by: BTreeSet<&str> = after.iter().map(|(_, up)| up.as_str()).collect();
    assert_eq!(statuses(&burst), [200; 4]);
    assert_eq!(upstreams.len(), 2, "the burst landed on {upstreams:?} only");
    assert_eq!(statuses(&after), [429; 2]);
    assert_eq!(refused_by.len(), 2, "only {refused_by:?} refused");
}

/// The scheduled (not hand-started) runs on record, by job and slot, with their instance
/// and outcome; waits until none is still running.
async fn scheduled_runs(url: &str) -> Vec<(String, String, String, String)> {
    let mut conn = PgConnection::connect(url).await.expect("connect to the test database");
    let query = "SELECT job, slot, instance, outcome FROM job_runs \
                 WHERE slot NOT LIKE 'manual-%' ORDER BY job, slot, instance";
    for _ in 0..400 {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as(query).fetch_all(&mut conn).await.expect("read job_runs");
        let cleanup_done = rows.iter().any(|r| r.0 == "session-cleanup" && r.3 != "running");
        if cleanup_done && rows.iter().all(|r| r.3 != "running") {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the scheduled session cleanup never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scheduled_job_runs_once_across_both_instances() {
    let stack = Stack::start(&[]).await;
    // Both instances are up, so both schedulers have made their first tick (it comes at
    // once on start); a request through nginx to each makes sure both are serving.
    let cookie = stack.login().await;
    let mut upstreams = BTreeSet::new();
    for _ in 0..4 {
        upstreams.insert(stack.get(&cookie, "/api/auth/me").await.1);
    }

    let rows = scheduled_runs(&stack.database.url).await;

    let mut per_slot = std::collections::BTreeMap::new();
    for (job, slot, _, _) in &rows {
        *per_slot.entry((job.clone(), slot.clone())).or_insert(0) += 1;
    }
    let instances: BTreeSet<&str> = rows.iter().map(|r| r.2.split(':').next().unwrap()).collect();
    assert_eq!(upstreams.len(), 2);
    assert!(per_slot.keys().any(|(job, _)| job == "session-cleanup"), "{per_slot:?}");
    assert!(per_slot.values().all(|runs| *runs == 1), "runs per job and slot: {per_slot:?}");
    assert!(
        instances.iter().all(|i| ["instance-a", "instance-b"].contains(i)),
        "runs by {instances:?}"
    );
}
