#!/usr/bin/env bash
# The smoke benchmark: `sessionctl smoke` (the deploy pipeline's check) against a throwaway redis-server
# holding the sample sessions of tests/fixtures/sample_sessions.redis. Timed with hyperfine (medians) with
# the default --latency-window and with --latency-window 0ms, against a reference measured in the same
# run on the same server: the check an operator would script with redis-cli, per profile PING, SET a
# canary key EX, GET, PTTL, DEL (5 redis-cli invocations per profile, 50 in all for the 10 built-in
# profiles). Peak RSS with /usr/bin/time. The target ("well under a second against a local Redis") is taken as < 0.25 s.
# Prints a Markdown table for the README.
#
#   bench/smoke.sh [path/to/sessionctl]        RUNS=30 WARMUP=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/sessionctl}")
runs=${RUNS:-30}
warmup=${WARMUP:-3}
limit=0.25
for tool in hyperfine redis-server redis-cli /usr/bin/time awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine redis-server redis-tools time)" >&2; exit 2; }
done
srv_pin=() cli_pin=()
if [[ ${PIN:-1} != 0 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
  srv_pin=(taskset -c 0) cli_pin=(taskset -c 1)
fi

dir=$(mktemp -d /tmp/sessionctl-bench.XXXXXX)
for _ in $(seq 20); do  # a free loopback port below 50000: nothing accepts on it yet
  port=$(shuf -i 20000-49000 -n 1)
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
"${srv_pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.3; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

grep -v '^#' tests/fixtures/sample_sessions.redis | grep -v '^$' | redis-cli -p "$port" >/dev/null
echo "bench: $(redis-cli -p "$port" dbsize) keys from tests/fixtures/sample_sessions.redis" >&2

# The reference: what an operator would script with redis-cli, one canary string key per built-in profile
# (the five seed stores and the five framework stores).
cat >"$dir/reference.sh" <<EOF
set -e
for key in state:bench-canary conversation:state:bench-canary session:bench-canary session:chat:bench-canary \\
  trt:session:bench-canary:state sess:bench-canary spring:session:sessions:bench-canary \\
  PHPREDIS_SESSION:bench-canary :1:django.contrib.sessions.cachebench-canary rack:session:bench-canary; do
  redis-cli -p $port PING >/dev/null
  redis-cli -p $port SET "\$key" '{"canary":true}' EX 60 >/dev/null
  redis-cli -p $port GET "\$key" >/dev/null
  redis-cli -p $port PTTL "\$key" >/dev/null
  redis-cli -p $port DEL "\$key" >/dev/null
done
EOF

url="redis://127.0.0.1:$port/0"
pin="${cli_pin[*]}"
ref="$pin bash $dir/reference.sh"
hf() {  # name, candidate, reference (no shell in between: -N; output discarded by hyperfine)
  hyperfine --style basic -N --output null --warmup "$warmup" --runs "$runs" --export-csv "$dir/$1.csv" \
    -n sessionctl "$2" -n reference "$3" >&2
}
hf default "$pin $bin -u $url smoke" "$ref"
hf nowindow "$pin $bin -u $url smoke --latency-window 0ms" "$ref"

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
rss_default=$(rss "$bin" -u "$url" smoke)
rss_nowindow=$(rss "$bin" -u "$url" smoke --latency-window 0ms)
pings=$("$bin" -u "$url" smoke | awk '$1 == "latency" { for (i = 1; i <= NF; i++) if ($(i + 1) == "PINGs:") print $i }')
left=$(redis-cli -p "$port" dbsize)

median() { awk -F, -v name="$2" '$1 == name { print $4 }' "$dir/$1.csv"; }
row() {  # label, csv
  local s r; s=$(median "$2" sessionctl); r=$(median "$2" reference)
  awk -v l="$1" -v s="$s" -v r="$r" -v t="$limit" \
    'BEGIN { printf "| %s | %.1f ms | %.1f ms | **%.2f×** | %s |\n", l, s * 1000, r * 1000, s / r, (s < t ? "yes" : "NO") }'
}
echo
echo "| sessionctl command | median | reference (same run) | ratio | < $limit s |"
echo "|---|---|---|---|---|"
row "\`smoke\` (default \`--latency-window 200ms\`, ${pings:-?} PINGs)" default
row "\`smoke --latency-window 0ms\`" nowindow
echo
echo "Reference: a shell script of 50 redis-cli invocations (per profile PING, SET canary EX 60, GET, PTTL, DEL)."
echo "Peak RSS: \`smoke\` $((rss_default / 1024)) MiB, \`smoke --latency-window 0ms\` $((rss_nowindow / 1024)) MiB."
echo "Keys after the runs: $left (the fixture's own; canaries removed)."
echo "Placement: ${srv_pin[*]:-unpinned} redis-server, ${cli_pin[*]:-unpinned} clients."
echo "Machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(redis-server --version | awk '{ sub(/^v=/, "", $3); print $3 }'), $(date -u +%Y-%m-%d)."
