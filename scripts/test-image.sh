#!/usr/bin/env bash
# `npm run test:image`: builds the Dockerfile as it is with podman (on a local stand-in for
# its base image, scripts/make-node-base.sh) and smoke-tests the image on a private Redis
# with production settings (ccxt source; the venues may be out of reach, so "not ready" is
# a valid answer): live, ready answers, the HEALTHCHECK, API keys read from a root-owned
# 0600 secret, no dev tooling in the image, a clean SIGTERM. Prints each check; exits
# non-zero on the first failure. Needs root and: apt-get install podman mmdebstrap runc
# redis-server curl.
#   IMAGE_TAG (default localhost/liq-gate:test); REBUILD_BASE=1 remakes the base image;
#   IMAGE_TEST_SLOW_DNS=0 skips the start under a resolver that never answers.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${IMAGE_TAG:-localhost/liq-gate:test}"
shutdown_timeout_ms=10000
run_id="liqgate-imgtest-$$"
work="$(mktemp -d)"
redis_pid=""
dns_pid=""
checks=0

say() { printf '%s\n' "$*"; }
ok() { checks=$((checks + 1)); say "ok $checks - $*"; }
fail() { say "FAILED - $*"; exit 1; }
cleanup() {
  podman rm -f --ignore "$run_id" "$run_id-dns" >/dev/null 2>&1 || true
  podman secret rm "$run_id-keys" >/dev/null 2>&1 || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
  [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

for tool in podman mmdebstrap runc redis-server curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install podman mmdebstrap runc redis-server curl)"
done
[ "$(id -u)" -eq 0 ] || fail "run as root (rootless podman is not set up by this script)"

# Pitfalls of podman on this kind of machine, made explicit: runc rather than crun (crun
# fails on hybrid cgroup v1/v2 hosts); explicit ulimits (podman's defaults are above what
# the host allows, so runc's setrlimit fails with EPERM); host networking (no CNI bridge
# needed, and npm ci reaches the registry like the host does).
runtime=(--runtime runc)
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# --- base image and build
t0=$(date +%s)
scripts/make-node-base.sh
say "   base: $(elapsed "$t0")"
t0=$(date +%s)
# --format docker: the OCI format has no HEALTHCHECK, buildah would drop it.
podman build --quiet --format docker --pull=never --network host "${runtime[@]}" "${limits[@]}" \
  -t "$image" . >/dev/null 2>"$work/build.log" || { tail -40 "$work/build.log"; fail "podman build"; }
ok "image builds from the Dockerfile ($(elapsed "$t0"); $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"

inspect() { podman image inspect --format "$1" "$image"; }
[ "$(inspect '{{.Config.User}}')" = node ] || fail "image user is '$(inspect '{{.Config.User}}')', not node"
ok "runs as USER node"
inspect '{{json .Config.Healthcheck}}' | grep -q '/health/live' || fail "no HEALTHCHECK on /health/live in the image"
ok "HEALTHCHECK on /health/live kept"

# Nothing that only builds or tests the code ships in the runtime image.
dev_found="$(podman run --rm "${runtime[@]}" "${limits[@]}" --network none --no-healthcheck "$image" \
  sh -c 'for p in tsx typescript vitest eslint esbuild @types supertest fast-check autocannon playwright-core; do [ -e "node_modules/$p" ] && echo "$p"; done; true')"
[ -z "$dev_found" ] || fail "dev tooling in the runtime image: $dev_found"
ok "no dev tooling in node_modules (tsx, typescript, vitest, eslint, esbuild, ...)"

# --- secrets: the API keys file is owned by root, mode 0600, on the host.
key="imgtest-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '# image test\nprobe=%s:read\n' "$key" >"$work/api_keys"
chown root:root "$work/api_keys"
chmod 0600 "$work/api_keys"
read_secret() { # $@ = podman options that put the file at /run/secrets/api_keys
  podman run --rm "${runtime[@]}" "${limits[@]}" --network none --no-healthcheck "$@" "$image" \
    node -e 'require("fs").readFileSync("/run/secrets/api_keys")' 2>/dev/null
}
if read_secret -v "$work/api_keys:/run/secrets/api_keys:ro,Z"; then
  fail "a root-owned 0600 bind mount was readable by USER node (expected it not to be)"
fi
ok "root 0600 file bind-mounted as is: unreadable by USER node (why the convention below exists)"
cp -p "$work/api_keys" "$work/api_keys_group"
chown root:1000 "$work/api_keys_group"
chmod 0640 "$work/api_keys_group"
read_secret -v "$work/api_keys_group:/run/secrets/api_keys:ro,Z" || fail "root:1000 0640 bind mount unreadable"
ok "root:1000 0640 bind mount (Compose file secrets): readable by USER node"
podman secret create "$run_id-keys" "$work/api_keys" >/dev/null
read_secret --secret "$run_id-keys,target=api_keys,uid=1000,gid=1000,mode=0400" || fail "secret with uid/gid/mode unreadable"
ok "root 0600 file as a secret with uid=1000,gid=1000,mode=0400: readable by USER node"

# --- a private Redis (never the shared one)
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || fail "private redis-server did not start"

# --- the service, production settings
# HTTP status of a GET (000 when nothing answers); the body goes to $work/body.
http() { curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "$@" || true; }
start_gate() { # $1 = container name, $2 = port, then extra podman options
  local name="$1" port="$2"
  shift 2
  # The HEALTHCHECK stays defined (run once below by hand); podman's periodic runs need
  # systemd timers, absent here, hence its complaints go to a log.
  podman run -d --name "$name" "${runtime[@]}" "${limits[@]}" --network host \
    --secret "$run_id-keys,target=api_keys,uid=1000,gid=1000,mode=0400" \
    -e NODE_ENV=production -e HOST=127.0.0.1 -e PORT="$port" -e STORE=redis \
    -e REDIS_URL="redis://127.0.0.1:$redis_port" -e REDIS_KEY_PREFIX="$name:" \
    -e MARKET_SOURCE=ccxt -e API_KEYS_FILE=/run/secrets/api_keys \
    -e SHUTDOWN_TIMEOUT_MS="$shutdown_timeout_ms" \
    "$@" "$image" >/dev/null 2>"$work/podman-run.log" || { cat "$work/podman-run.log"; fail "podman run"; }
}
wait_live() { # $1 = container name, $2 = port; fails if the process exits first
  local t0 status=000
  t0=$(date +%s)
  for _ in $(seq 1 600); do
    status="$(http "http://127.0.0.1:$2/health/live")"
    [ "$status" = 200 ] && break
    [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || break
    sleep 0.1
  done
  [ "$status" = 200 ] || { podman logs "$1" 2>&1 | tail -15 | cut -c1-400; fail "$1: /health/live never answered 200"; }
  live_after="$(elapsed "$t0")"
}
stop_gate() { # $1 = container name, $2 = extra ms allowed: SIGTERM, then exit 0 within the shutdown timeout
  local t0 code ms limit_ms=$((shutdown_timeout_ms + ${2:-0}))
  t0=$(date +%s%N)
  podman kill --signal TERM "$1" >/dev/null
  code="$(timeout $((limit_ms / 1000 + 5)) podman wait "$1" || echo timeout)"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$code" = 0 ] || { podman logs "$1" 2>&1 | tail -15 | cut -c1-400; fail "$1 after SIGTERM: exit $code (${ms} ms)"; }
  [ "$ms" -le "$limit_ms" ] || { podman logs "$1" 2>&1 | tail -25 | cut -c1-300; fail "$1: SIGTERM took ${ms} ms, more than ${limit_ms} ms (SHUTDOWN_TIMEOUT_MS=$shutdown_timeout_ms + ${2:-0})"; }
  podman logs "$1" 2>&1 | grep -q 'shutdown complete' || fail "$1: no 'shutdown complete' in the log"
  stopped_after="${ms} ms"
}

port="$(free_port)"
base_url="http://127.0.0.1:$port"
start_gate "$run_id" "$port" -e SYMBOLS=BTCUSDT
wait_live "$run_id" "$port"
ok "GET /health/live: 200 after $live_after ($(cat "$work/body"))"

status="$(http "$base_url/health/ready")"
case "$status" in
  200 | 503) ok "GET /health/ready answers: $status $(head -c 300 "$work/body")" ;;
  *) fail "GET /health/ready: $status $(head -c 300 "$work/body")" ;;
esac

[ "$(http "$base_url/policy")" = 401 ] || fail "GET /policy without a key is not 401"
[ "$(http -H "Authorization: Bearer $key" "$base_url/policy")" = 200 ] || fail "GET /policy with the secret's key is not 200"
ok "API key from the secret file works (401 without it, 200 with it)"

podman healthcheck run "$run_id" >/dev/null 2>&1 || fail "the image's HEALTHCHECK command reports unhealthy"
ok "the image's HEALTHCHECK command passes inside the container"

stop_gate "$run_id"
ok "SIGTERM: exit 0 after $stopped_after (timeout ${shutdown_timeout_ms} ms), 'shutdown complete' logged"

# --- slow name resolution: a resolver that never answers (each lookup waits 2 x 5 s) and
# Redis named by host. The venues' lookups fill libuv's threadpool (4 threads) and Redis's
# queue behind them. The service must come up (startup does not wait on venue calls) and
# stop on SIGTERM with lookups still in flight. IMAGE_TEST_SLOW_DNS=0 skips it.
if [ "${IMAGE_TEST_SLOW_DNS:-1}" = 1 ]; then
  dns_ip=127.0.0.153
  node -e '
    const s = require("dgram").createSocket("udp4");
    s.on("message", () => {}); // never answers
    s.bind(53, process.argv[1], () => process.stdout.write("bound\n"));' "$dns_ip" >"$work/dns.log" 2>&1 &
  dns_pid=$!
  for _ in $(seq 1 50); do grep -q bound "$work/dns.log" && break; sleep 0.1; done
  grep -q bound "$work/dns.log" || fail "silent DNS server could not bind $dns_ip:53: $(cat "$work/dns.log")"
  printf 'nameserver %s\noptions timeout:5 attempts:2\n' "$dns_ip" >"$work/resolv.conf"
  port="$(free_port)"
  start_gate "$run_id-dns" "$port" -v "$work/resolv.conf:/etc/resolv.conf:ro,Z" \
    -e REDIS_URL="redis://localhost:$redis_port" -e SYMBOLS=BTCUSDT,ETHUSDT
  wait_live "$run_id-dns" "$port"
  ok "slow name resolution: live after $live_after"
  # The service finishes its shutdown within SHUTDOWN_TIMEOUT_MS, but Node's exit joins
  # libuv's threads, and a thread blocked in getaddrinfo returns only when the resolver
  # gives up (here 2 x 5 s): the process can outlive its deadline by that much.
  stop_gate "$run_id-dns" 12000
  podman logs "$run_id-dns" 2>&1 | grep -q '"msg":"shutdown complete"' || fail "no clean shutdown under slow DNS"
  ok "slow name resolution: SIGTERM exit 0 after $stopped_after with venue lookups in flight (shutdown itself within SHUTDOWN_TIMEOUT_MS; exit waits on the blocked lookups)"
fi

say "image test: $checks checks passed ($image)"
