#!/usr/bin/env bash
# The read-path benchmark: 1,000,000 btrix sessions (~600 B of JSON each, with TTLs) under the ids that
# redis-benchmark's __rand_int__ produces, on a throwaway redis-server. Each sessionctl command is timed
# against a reference measured in the same run on the same server (hyperfine, medians), and its peak
# RSS taken with /usr/bin/time. Prints a Markdown table for the README.
#
#   bench/run.sh [path/to/sessionctl]        N=1000000 RUNS=5 by default
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/sessionctl}")
n=${N:-1000000}
runs=${RUNS:-5}
for tool in hyperfine redis-server redis-cli redis-benchmark /usr/bin/time awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine redis-server redis-tools time)" >&2; exit 2; }
done

# Placement: redis-server on CPU 0, every timed client on CPU 1 (as client and server sit on different
# machines in production). Unpinned, the scheduler sometimes puts redis-cli on the server's core, where
# its ~95,000 SCAN round trips become cheap context switches, and the reference swings 2.7-9 s between
# runs. PIN=0 turns this off.
srv_pin=() cli_pin=()
if [[ ${PIN:-1} != 0 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
  srv_pin=(taskset -c 0) cli_pin=(taskset -c 1)
fi

dir=$(mktemp -d /tmp/sessionctl-bench.XXXXXX)
port=$(shuf -i 20000-60000 -n 1)
"${srv_pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.3; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "bench: writing $n btrix sessions (SET state:<12 digits> <json> EX 3600) with redis-cli --pipe" >&2
awk -v n="$n" 'BEGIN {
  pad = sprintf("%330s", ""); gsub(/ /, "x", pad);
  for (i = 0; i < n; i++) {
    k = sprintf("state:%012d", i);
    v = sprintf("{\"current\":\"BOOK_EMAIL\",\"data\":{\"name\":\"User %d\",\"email\":\"user%d@example.com\",\"phone\":\"+1555%07d\"},\"history\":[\"WELCOME\",\"BOOK_NAME\"],\"notes\":\"%s\",\"updatedAt\":\"2026-11-22T03:10:00Z\"}", i, i, i, pad);
    printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n", length(k), k, length(v), v
  } }' | redis-cli -p "$port" --pipe >/dev/null
echo "bench: $(redis-cli -p "$port" dbsize) keys, value size $(redis-cli -p "$port" strlen state:000000000042) B" >&2

url="redis://127.0.0.1:$port/0"
hf() {  # name, candidate, reference
  hyperfine --style basic --warmup 1 --runs "$runs" --export-csv "$dir/$1.csv" -n sessionctl "$2" -n reference "$3" >&2
}
pin="${cli_pin[*]}"
hf list "$pin $bin -u $url list -o jsonl >/dev/null" "$pin redis-cli -p $port --scan --pattern 'state:*' >/dev/null"
hf wide "$pin $bin -u $url list --wide -o jsonl >/dev/null" \
  "$pin redis-benchmark -p $port -c 1 -P 64 -n 2000000 -r 1000000 GET 'state:__rand_int__' >/dev/null"

# The floor: what the server itself spends serving one `list` (SCAN + PTTL + STRLEN per key).
server_cpu() { redis-cli -p "$port" info cpu | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { print s }'; }
before=$(server_cpu)
"${cli_pin[@]}" "$bin" -u "$url" list -o jsonl >/dev/null
list_server_cpu=$(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
rss_list=$(rss "$bin" -u "$url" list -o jsonl)
rss_wide=$(rss "$bin" -u "$url" list --wide -o jsonl)
rss_sort=$(rss "$bin" -u "$url" list --sort ttl -o jsonl)
rss_sort_limit=$(rss "$bin" -u "$url" list --sort ttl --limit 100 -o jsonl)
lines=$("$bin" -u "$url" list -o jsonl | wc -l)

median() { awk -F, -v name="$2" '$1 == name { print $4 }' "$dir/$1.csv"; }
row() {  # label, csv, reference label, target
  local s r; s=$(median "$2" sessionctl); r=$(median "$2" reference)
  awk -v l="$1" -v s="$s" -v r="$r" -v ref="$3" -v t="$4" \
    'BEGIN { printf "| %s | %.2f s | %s: %.2f s | **%.2f×** | ≤ %s× |\n", l, s, ref, r, s / r, t }'
}
echo
echo "| sessionctl command | median | reference (same run) | ratio | target |"
echo "|---|---|---|---|---|"
row "\`list -o jsonl\` ($lines sessions)" list "\`redis-cli --scan --pattern 'state:*'\`" 0.5
row "\`list --wide -o jsonl\`" wide "\`redis-benchmark -c 1 -P 64 -n 2000000 -r 1000000 GET\`" 1.5
echo
echo "Peak RSS: \`list -o jsonl\` $((rss_list / 1024)) MiB, \`list --wide -o jsonl\` $((rss_wide / 1024)) MiB (target < 64 MiB);"
echo "\`list --sort ttl -o jsonl\` $((rss_sort / 1024)) MiB (target ≤ 128 MiB), with \`--limit 100\` $((rss_sort_limit / 1024)) MiB (target ≤ 64 MiB)."
echo "Server CPU for one \`list -o jsonl\`: ${list_server_cpu} s (INFO used_cpu_user+sys), the floor for its wall time."
echo "Placement: ${srv_pin[*]:-unpinned} redis-server, ${cli_pin[*]:-unpinned} clients."
echo "Machine: $(nproc) cores, $(redis-server --version | awk '{print $3}'), $(date -u +%Y-%m-%d)."
