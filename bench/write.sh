#!/usr/bin/env bash
# The write-path benchmark: extend --ttl and delete of 200,000 btrix sessions picked by filter
# (--profile btrix), as keys per second, against redis-cli --pipe carrying out the same PEXPIRE/UNLINK
# commands on the same keys, on the same throwaway redis-server, in the same run. Before every timed run
# the server is emptied and loaded again (hyperfine --prepare), so each run changes all 200,000. Peak RSS
# with /usr/bin/time. Prints a Markdown table for the README (target: at least 0.75x the pipe's rate,
# 64 MiB).
#
#   bench/write.sh [path/to/sessionctl]     N=200000 RUNS=5 by default; PIN=0 turns off CPU pinning
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/sessionctl}")
n=${N:-200000}
runs=${RUNS:-5}
for tool in hyperfine redis-server redis-cli /usr/bin/time awk; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine redis-server redis-tools time)" >&2; exit 2; }
done
srv_pin=()
cli_pin=()
if [[ ${PIN:-1} != 0 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
  srv_pin=(taskset -c 0)
  cli_pin=(taskset -c 1)
fi
dir=$(mktemp -d /tmp/sessionctl-wbench.XXXXXX)
port=$(shuf -i 20000-45000 -n 1)
"${srv_pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; sleep 0.3; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# The sessions (RESP, for --pipe) and the reference's commands on the same keys.
awk -v n="$n" -v dir="$dir" 'BEGIN {
  pad = sprintf("%330s", ""); gsub(/ /, "x", pad)
  for (i = 0; i < n; i++) {
    k = sprintf("state:%012d", i)
    v = sprintf("{\"current\":\"BOOK_EMAIL\",\"data\":{\"name\":\"User %d\",\"email\":\"user%d@example.com\"},\"history\":[\"WELCOME\"],\"notes\":\"%s\",\"updatedAt\":\"2026-11-22T03:10:00Z\"}", i, i, pad)
    printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n", length(k), k, length(v), v > (dir "/load.resp")
    printf "*4\r\n$7\r\nPEXPIRE\r\n$%d\r\n%s\r\n$7\r\n3000000\r\n$2\r\nXX\r\n", length(k), k > (dir "/expire.resp")
    printf "*2\r\n$6\r\nUNLINK\r\n$%d\r\n%s\r\n", length(k), k > (dir "/unlink.resp")
  }
}'
load="redis-cli -p $port flushall >/dev/null && redis-cli -p $port --pipe <$dir/load.resp >/dev/null"
eval "$load"
echo "bench: $(redis-cli -p "$port" dbsize) keys" >&2
url="redis://127.0.0.1:$port/0"
cli="${cli_pin[*]}"
hf() {  # name, sessionctl command, reference command
  hyperfine --style basic --warmup 1 --runs "$runs" --prepare "$load" --export-csv "$dir/$1.csv" \
    -n sessionctl "$cli $2" -n pipe "$cli $3" >&2
}
hf extend "$bin -u $url extend --profile btrix --ttl 50m --yes -q -o jsonl >/dev/null" \
  "redis-cli -p $port --pipe <$dir/expire.resp >/dev/null"
eval "$load"
rss_extend=$(/usr/bin/time -f "%M" "$bin" -u "$url" extend --profile btrix --ttl 50m --yes -q -o jsonl 2>&1 >/dev/null | tail -1)
left=$(redis-cli -p "$port" eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'state:*')) do if redis.call('PTTL', k) > 3000000 then n = n + 1 end end return n" 0)
hf delete "$bin -u $url delete --profile btrix --yes -q -o jsonl >/dev/null" \
  "redis-cli -p $port --pipe <$dir/unlink.resp >/dev/null"
eval "$load"
rss_delete=$(/usr/bin/time -f "%M" "$bin" -u "$url" delete --profile btrix --yes -q -o jsonl 2>&1 >/dev/null | tail -1)
remaining=$(redis-cli -p "$port" dbsize)

median() { awk -F, -v who="$2" '$1 == who { print $4 }' "$dir/$1.csv"; }
row() {  # name, what
  local c p
  c=$(median "$1" sessionctl)
  p=$(median "$1" pipe)
  awk -v what="$2" -v c="$c" -v p="$p" -v n="$n" \
    'BEGIN { printf "| %s | %.0f keys/s (%.2f s) | %.0f keys/s (%.2f s) | %.2f× |\n", what, n / c, c, n / p, p, p / c }'
}
echo
echo "| $n btrix sessions | sessionctl | redis-cli --pipe, same commands | rate ratio (target ≥ 0.75×) |"
echo "|---|---|---|---|"
row extend "\`extend --profile btrix --ttl 50m --yes\`"
row delete "\`delete --profile btrix --yes\`"
echo
echo "Peak RSS: extend $((rss_extend / 1024)) MiB, delete $((rss_delete / 1024)) MiB (target ≤ 64). Check: $left" \
  "keys kept a TTL above 50m after extend, $remaining keys left after delete (both should be 0)."
