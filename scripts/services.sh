# Shared by scripts/test: makes sure the services the test suite needs are reachable, and
# exports where they are. Sourced, not run.
#
# PostgreSQL: the server named by BUGDASH_TEST_POSTGRES_URL, else the one on
# 127.0.0.1:5432 when it answers, else a throwaway cluster started from the installed
# PostgreSQL binaries (stopped and deleted on exit). Without any of these the suite stops
# with a message saying what to install; the PostgreSQL tests are never skipped.
#
# Redis: the server named by BUGDASH_TEST_REDIS_URL, else the one on 127.0.0.1:6379 when
# it answers, else a throwaway redis-server (no persistence, stopped on exit). Tests keep
# their keys under prefixes of their own and never flush a database.

BUGDASH_SERVICES_DIR=""

services_cleanup() {
    if [[ -n "${BUGDASH_REDIS_PID:-}" ]]; then
        kill "$BUGDASH_REDIS_PID" 2>/dev/null || true
    fi
    if [[ -n "$BUGDASH_SERVICES_DIR" && -d "$BUGDASH_SERVICES_DIR" ]]; then
        if [[ -f "$BUGDASH_SERVICES_DIR/pg/postmaster.pid" ]]; then
            as_postgres_user "$PG_BIN/pg_ctl" -D "$BUGDASH_SERVICES_DIR/pg" -m immediate stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$BUGDASH_SERVICES_DIR"
    fi
}

# PostgreSQL refuses to run as root; use the postgres account when we are root.
as_postgres_user() {
    if [[ $EUID -eq 0 ]] && id postgres >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

ensure_postgres() {
    if [[ -n "${BUGDASH_TEST_POSTGRES_URL:-}" ]]; then
        echo "PostgreSQL: using BUGDASH_TEST_POSTGRES_URL"
        return
    fi
    if port_answers 127.0.0.1 5432; then
        export BUGDASH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
        echo "PostgreSQL: using the server on 127.0.0.1:5432"
        return
    fi
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z "$PG_BIN" ]] && command -v initdb >/dev/null 2>&1; then
        PG_BIN="$(dirname "$(command -v initdb)")"
    fi
    if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
        echo "error: the test suite needs PostgreSQL. Start a server on 127.0.0.1:5432," >&2
        echo "       install one (Debian/Ubuntu: sudo apt-get install postgresql)," >&2
        echo "       or set BUGDASH_TEST_POSTGRES_URL=postgres://user@host:port/db" >&2
        exit 2
    fi
    BUGDASH_SERVICES_DIR="$(mktemp -d)"
    chmod 755 "$BUGDASH_SERVICES_DIR"
    trap services_cleanup EXIT
    local port=55432 data="$BUGDASH_SERVICES_DIR/pg"
    mkdir -p "$data"
    [[ $EUID -eq 0 ]] && chown postgres "$data"
    as_postgres_user "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust >/dev/null
    as_postgres_user "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    export BUGDASH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL: started a throwaway server on 127.0.0.1:$port"
}

ensure_redis() {
    if [[ -n "${BUGDASH_TEST_REDIS_URL:-}" ]]; then
        echo "Redis: using BUGDASH_TEST_REDIS_URL"
        return
    fi
    if port_answers 127.0.0.1 6379; then
        export BUGDASH_TEST_REDIS_URL="redis://127.0.0.1:6379/0"
        echo "Redis: using the server on 127.0.0.1:6379"
        return
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "error: the test suite needs Redis. Start a server on 127.0.0.1:6379," >&2
        echo "       install one (Debian/Ubuntu: sudo apt-get install redis-server)," >&2
        echo "       or set BUGDASH_TEST_REDIS_URL=redis://host:port/db" >&2
        exit 2
    fi
    [[ -n "$BUGDASH_SERVICES_DIR" ]] || BUGDASH_SERVICES_DIR="$(mktemp -d)"
    trap services_cleanup EXIT
    local port=56379
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --dir "$BUGDASH_SERVICES_DIR" >"$BUGDASH_SERVICES_DIR/redis.log" 2>&1 &
    BUGDASH_REDIS_PID=$!
    for _ in $(seq 50); do
        port_answers 127.0.0.1 "$port" && break
        sleep 0.1
    done
    if ! port_answers 127.0.0.1 "$port"; then
        echo "error: redis-server did not start; see $BUGDASH_SERVICES_DIR/redis.log" >&2
        exit 2
    fi
    export BUGDASH_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
    echo "Redis: started a throwaway server on 127.0.0.1:$port"
}

# nginx: the end-to-end test of deploy/ runs Debian's nginx as a child process of its own
# (tests/tests/e2e/nginx.rs). Installed with apt-get when missing and we are root;
# otherwise the suite stops saying what to install (the test never skips).
# Installs Debian packages quietly, refreshing the package lists once when they are stale.
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null \
        2>&1 && return
    apt-get update >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
}

ensure_nginx() {
    if [[ -n "${BUGDASH_TEST_NGINX:-}" ]] || command -v nginx >/dev/null 2>&1 \
        || [[ -x /usr/sbin/nginx ]]; then
        echo "nginx: found"
        return
    fi
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "nginx: installing Debian's nginx package"
        apt_install nginx || {
            echo "error: apt-get install nginx failed" >&2
            exit 2
        }
        return
    fi
    echo "error: nginx is missing; the nginx test needs it." >&2
    echo "       install it (Debian/Ubuntu: sudo apt-get install nginx)," >&2
    echo "       or set BUGDASH_TEST_NGINX to an nginx binary" >&2
    exit 2
}

# promtool (from Debian's prometheus package) checks the /metrics text. The package would
# also install a Prometheus server, so only promtool is unpacked, into a cache folder
# outside the clone, and put on PATH.
ensure_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        echo "promtool: found"
        return
    fi
    local tools="${XDG_CACHE_HOME:-$HOME/.cache}/bugdash-tools/prometheus"
    if [[ ! -x "$tools/usr/bin/promtool" ]] && command -v apt-get >/dev/null 2>&1; then
        echo "promtool: unpacking it from Debian's prometheus package"
        local download
        download="$(mktemp -d)"
        (cd "$download" && { apt-get download prometheus >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1; apt-get download prometheus >/dev/null; }; }) \
            && mkdir -p "$tools" && dpkg -x "$download"/prometheus_*.deb "$tools"
        rm -rf "$download"
    fi
    if [[ -x "$tools/usr/bin/promtool" ]]; then
        export PATH="$tools/usr/bin:$PATH"
        echo "promtool: $tools/usr/bin/promtool"
        return
    fi
    echo "error: promtool is missing; the metrics test needs it." >&2
    echo "       install it (Debian/Ubuntu: sudo apt-get install prometheus)" >&2
    exit 2
}

# Chromium for the browser tests (tests/tests/e2e/browser.rs): BUGDASH_TEST_CHROMIUM names
# the binary, else Debian's chromium package, installed with apt-get when missing and we are
# root. Without it the suite stops saying what to install; the browser test never skips.
ensure_chromium() {
    if [[ -n "${BUGDASH_TEST_CHROMIUM:-}" ]]; then
        if [[ ! -x "$BUGDASH_TEST_CHROMIUM" ]]; then
            echo "error: BUGDASH_TEST_CHROMIUM=$BUGDASH_TEST_CHROMIUM is not an executable" >&2
            exit 2
        fi
        echo "Chromium: $BUGDASH_TEST_CHROMIUM (BUGDASH_TEST_CHROMIUM)"
        return
    fi
    local found
    found="$(command -v chromium || true)"
    if [[ -z "$found" ]] && [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "Chromium: installing Debian's chromium package"
        apt_install chromium || {
            echo "error: apt-get install chromium failed" >&2
            exit 2
        }
        found="$(command -v chromium || true)"
    fi
    if [[ -z "$found" ]]; then
        echo "error: Chromium is missing; the browser test needs it." >&2
        echo "       install it (Debian/Ubuntu: sudo apt-get install chromium)," >&2
        echo "       or set BUGDASH_TEST_CHROMIUM to a Chromium or Chrome binary" >&2
        exit 2
    fi
    export BUGDASH_TEST_CHROMIUM="$found"
    echo "Chromium: $found"
}

# The browser driver: playwright-core at the version pinned by tests/browser/package-lock.json,
# installed with npm into a cache folder outside the clone and reinstalled only when the lock
# changes. Playwright never downloads browsers of its own here: it drives the Chromium above.
# Exports BUGDASH_BROWSER_DRIVER, the folder whose node_modules holds playwright-core.
ensure_browser_driver() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "error: Node.js and npm are missing; the browser test runs under Node.js 20." >&2
        echo "       install them (Debian/Ubuntu: sudo apt-get install nodejs npm)" >&2
        exit 2
    fi
    if [[ -n "${BUGDASH_BROWSER_DRIVER:-}" ]]; then
        if [[ ! -f "$BUGDASH_BROWSER_DRIVER/node_modules/playwright-core/package.json" ]]; then
            echo "error: BUGDASH_BROWSER_DRIVER=$BUGDASH_BROWSER_DRIVER holds no" >&2
            echo "       node_modules/playwright-core; unset it to install one" >&2
            exit 2
        fi
        echo "browser driver: $BUGDASH_BROWSER_DRIVER (BUGDASH_BROWSER_DRIVER)"
        return
    fi
    local driver="${XDG_CACHE_HOME:-$HOME/.cache}/bugdash-tools/browser"
    local lock=tests/browser/package-lock.json
    if ! cmp -s "$lock" "$driver/package-lock.json" \
        || [[ ! -f "$driver/node_modules/playwright-core/package.json" ]]; then
        echo "browser driver: npm ci of tests/browser into $driver"
        rm -rf "$driver"
        mkdir -p "$driver"
        cp tests/browser/package.json "$lock" "$driver/"
        (cd "$driver" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit \
            --no-fund --loglevel=error) || {
            rm -rf "$driver"
            echo "error: npm ci of the browser driver failed" >&2
            exit 2
        }
    fi
    export BUGDASH_BROWSER_DRIVER="$driver"
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    echo "browser driver: $driver"
}
