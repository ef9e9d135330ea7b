#!/usr/bin/env bash
# Checks what can be checked of deploy/ without installing it: the nginx site (and the
# compose one) with `nginx -t` and a throwaway self-signed certificate, the systemd unit
# with `systemd-analyze verify`, and that compose.yaml parses. Containers are not built.
# Needs nginx and openssl; skips the systemd check when systemd-analyze is missing.
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bugdash.example.com" \
    -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null

check_site() { # site file, extra sed expression
    local name; name="$(basename "$1" .conf)"
    mkdir -p "$work/$name/logs"
    sed -e "s#/etc/ssl/bugdash/#$work/#" -e "${2:-s/^//}" "$1" >"$work/$name/site.conf"
    cat >"$work/$name/nginx.conf" <<CONF
pid $work/$name/nginx.pid;
error_log $work/$name/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/$name/body;
    proxy_temp_path $work/$name/proxy;
    include $work/$name/site.conf;
}
CONF
    "$nginx_bin" -t -q -p "$work/$name" -c "$work/$name/nginx.conf" -e "$work/$name/logs/error.log"
    echo "nginx -t: $1 ok"
}
check_site nginx/bugdash.conf
# The compose upstream names resolve only inside compose; check the rest with local ones.
check_site compose/nginx.conf 's/server bugdash-[ab]:5001/server 127.0.0.1:5001/'

if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$work/units"
    sed -e "s#/usr/local/bin/bugdash#$(command -v true)#" \
        -e "s#EnvironmentFile=/etc/bugdash/bugdash.env#EnvironmentFile=$work/bugdash.env#" \
        systemd/bugdash@.service >"$work/units/bugdash@.service"
    cp bugdash.env.example "$work/bugdash.env"
    (cd "$work/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify ./bugdash@5001.service)
    echo "systemd-analyze verify: systemd/bugdash@.service ok"
else
    echo "systemd-analyze missing: the unit was not checked"
fi

python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
assert {"postgres", "redis", "bugdash-a", "bugdash-b", "nginx"} <= set(d["services"])' \
    compose.yaml
echo "compose.yaml parses"
