#!/usr/bin/env bash
# The archive benchmark: 1,000,000 btrix sessions (~600 B of JSON each, EX 3600) under the ids that
# redis-benchmark's __rand_int__ produces, on a throwaway redis-server. export (plain, --mask, .zst)
# and verify are timed against `redis-benchmark -c 1 -P 64 -n 2000000 -r 1000000 GET`, import against
# `redis-cli --pipe` loading the same sessions as SET … PX, each on an emptied server, all in the same
# run (hyperfine medians); peak RSS with /usr/bin/time. Prints a Markdown table for the README.
#
#   bench/archive.sh [path/to/sessionctl]        N=1000000 RUNS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/sessionctl}")
n=${N:-1000000}
runs=${RUNS:-3}
for tool in hyperfine redis-server redis-cli redis-benchmark /usr/bin/time awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
srv_pin=() cli_pin=()
if [[ ${PIN:-1} != 0 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
  srv_pin=(taskset -c 0) cli_pin=(taskset -c 1)
fi

dir=$(mktemp -d /tmp/sessionctl-bench.XXXXXX)
port=$(shuf -i 20000-49000 -n 1)
"${srv_pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.3; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# The same sessions as redis-cli --pipe input: SET key value PX 3600000.
awk -v n="$n" 'BEGIN {
  pad = sprintf("%330s", ""); gsub(/ /, "x", pad);
  for (i = 0; i < n; i++) {
    k = sprintf("state:%012d", i);
    v = sprintf("{\"current\":\"BOOK_EMAIL\",\"data\":{\"name\":\"User %d\",\"email\":\"user%d@example.com\",\"phone\":\"+1555%07d\"},\"history\":[\"WELCOME\",\"BOOK_NAME\"],\"notes\":\"%s\",\"updatedAt\":\"2026-11-22T03:10:00Z\"}", i, i, i, pad);
    printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nPX\r\n$7\r\n3600000\r\n", length(k), k, length(v), v
  } }' >"$dir/load.resp"
redis-cli -p "$port" --pipe <"$dir/load.resp" >/dev/null
echo "bench: $(redis-cli -p "$port" dbsize) keys" >&2

url="redis://127.0.0.1:$port/0"
pin="${cli_pin[*]}"
ref="$pin redis-benchmark -p $port -c 1 -P 64 -n 2000000 -r 1000000 GET 'state:__rand_int__' >/dev/null"
hf() {  # name, candidate, reference[, prepare]
  local prep=()
  [[ -n ${4:-} ]] && prep=(--prepare "$4")
  hyperfine --style basic --warmup 1 --runs "$runs" "${prep[@]}" --export-csv "$dir/$1.csv" -n sessionctl "$2" \
    -n reference "$3" >&2
}
hf export "$pin $bin -u $url export -f $dir/a.jsonl --force" "$ref"
hf masked "$pin $bin -u $url export --mask -f $dir/m.jsonl --force" "$ref"
hf zst "$pin $bin -u $url export -f $dir/a.jsonl.zst --force" "$ref"
hf verify "$pin $bin -u $url verify $dir/a.jsonl" "$ref"
hf import "$pin $bin -u $url import $dir/a.jsonl" "$pin redis-cli -p $port --pipe <$dir/load.resp >/dev/null" \
  "redis-cli -p $port flushall >/dev/null"

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
rss_export=$(rss "$bin" -u "$url" export -f "$dir/r.jsonl")
rss_masked=$(rss "$bin" -u "$url" export --mask -f "$dir/rm.jsonl")
rss_zst=$(rss "$bin" -u "$url" export -f "$dir/r.jsonl.zst")
rss_verify=$(rss "$bin" -u "$url" verify "$dir/r.jsonl")
redis-cli -p "$port" flushall >/dev/null
rss_import=$(rss "$bin" -u "$url" import "$dir/r.jsonl")

median() { awk -F, -v name="$2" '$1 == name { print $4 }' "$dir/$1.csv"; }
row() {  # label, csv, reference label, target
  local s r; s=$(median "$2" sessionctl); r=$(median "$2" reference)
  awk -v l="$1" -v s="$s" -v r="$r" -v ref="$3" -v t="$4" \
    'BEGIN { printf "| %s | %.2f s | %s: %.2f s | **%.2f×** | ≤ %s× |\n", l, s, ref, r, s / r, t }'
}
get="\`redis-benchmark -c 1 -P 64 -n 2000000 GET\`"
echo
echo "| sessionctl command ($n sessions) | median | reference (same run) | ratio | target |"
echo "|---|---|---|---|---|"
row "\`export -f a.jsonl\`" export "$get" 0.75
row "\`export --mask\`" masked "$get" 1.25
row "\`export -f a.jsonl.zst\`" zst "$get" 1.0
row "\`verify a.jsonl\`" verify "$get" 1.0
row "\`import a.jsonl\` (empty server)" import "\`redis-cli --pipe\` of SET … PX" 1.0
echo
echo "Peak RSS: export $((rss_export / 1024)) MiB, --mask $((rss_masked / 1024)) MiB, .zst $((rss_zst / 1024)) MiB," \
  "verify $((rss_verify / 1024)) MiB, import $((rss_import / 1024)) MiB (target ≤ 64 MiB)."
