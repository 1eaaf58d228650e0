#!/usr/bin/env bash
# sessionctl's main job against a throwaway Redis: starts redis-server on a free loopback port in a
# temp dir, writes sample sessions of all five seed profiles the way each app does, then runs
# status, list, inspect and doctor. Installs and builds what is missing; leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ ! -x build/sessionctl ]; then
  packages=(build-essential cmake pkg-config libhiredis-dev libzstd-dev zlib1g-dev libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
            redis-server redis-tools catch2)
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "demo: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "demo: building sessionctl" >&2
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target sessionctl >/dev/null
fi

dir=$(mktemp -d /tmp/sessionctl-demo.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
       || shuf -i 20000-60000 -n 1)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
cleanup() { [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.2; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

grep -v '^#' "$root/tests/fixtures/sample_sessions.redis" | grep -v '^$' | redis-cli -p "$port" >/dev/null

export SESSIONCTL_URL="redis://127.0.0.1:$port/0"
run() { printf '\n$ %s\n' "$*"; "$@"; }
run build/sessionctl status
run build/sessionctl list --wide
run build/sessionctl inspect test-session-123 user_12345
run build/sessionctl doctor || true   # exits 1 when it finds problems: that is its job
run build/sessionctl extend --profile channels --by 30m --yes   # a TTL added to whole sessions
run build/sessionctl delete --where data.email=john@example.com --dry-run   # the plan of an erasure, nothing changed
run build/sessionctl backup --file "$dir/before.jsonl.zst"   # every session, exact, checksummed
run build/sessionctl delete --profile btrix --yes
run build/sessionctl verify "$dir/before.jsonl.zst" || true   # exits 1: the btrix sessions are missing
run build/sessionctl restore "$dir/before.jsonl.zst"          # back, whole, with their expiries
run build/sessionctl verify "$dir/before.jsonl.zst"
run build/sessionctl smoke --junit "$dir/smoke.xml"   # the deploy pipeline's check; canaries leave nothing behind
run build/sessionctl persist-test --spawn --spawn-config appendonly=yes --crash --scenario redis-restart   # sessions through a crash
