#!/usr/bin/env bash
# The cluster benchmark: 3,000,000 btrix sessions on a throwaway local 3-primary Redis Cluster against
# 1,000,000 on one redis-server, in the same run, with the same values as bench/run.sh. Times
# `list -o jsonl` and `list --wide -o jsonl` on both (hyperfine, medians) and reports the ratio
# cluster / single (the target is at most 2.5: three times the sessions, read from three servers that
# share this machine's cores with the client), and peak RSS on the cluster (/usr/bin/time; target 64 MiB).
# The loader routes each key to its slot's owner (CRC16, python3) and feeds one redis-cli --pipe per node.
#
#   bench/cluster.sh [path/to/sessionctl]        N=1000000 (per node) RUNS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/sessionctl}")
n=${N:-1000000}
runs=${RUNS:-3}
for tool in hyperfine redis-server redis-cli /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine redis-server redis-tools time python3)" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/sessionctl-cluster-bench.XXXXXX)
pids=()
cleanup() { for f in "$dir"/*/redis.pid; do kill "$(cat "$f")" 2>/dev/null || true; done; sleep 0.5; rm -rf "$dir"; }
trap cleanup EXIT
free_port() {  # a port below 40000 whose cluster bus port (+10000) is free too
  while :; do
    local p; p=$(shuf -i 20000-39999 -n 1)
    if ! (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null && ! (echo >/dev/tcp/127.0.0.1/$((p + 10000))) 2>/dev/null; then
      echo "$p"; return
    fi
  done
}
start() {  # name port [extra redis-server args]
  mkdir -p "$dir/$1"
  (cd "$dir/$1" && redis-server --port "$2" --bind 127.0.0.1 --dir "$dir/$1" --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/$1/redis.pid" --logfile "$dir/$1/redis.log" "${@:3}")
  for _ in $(seq 50); do redis-cli -p "$2" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
single=$(free_port)
start single "$single"
ports=()
for i in 1 2 3; do
  p=$(free_port)
  ports+=("$p")
  start "node$i" "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
done
redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
for _ in $(seq 100); do
  redis-cli -p "${ports[0]}" cluster info | grep -q cluster_state:ok && break
  sleep 0.2
done

echo "bench: writing $n sessions to one server and $((3 * n)) to the cluster (redis-cli --pipe per node)" >&2
gen='
import sys
n, start, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
def table():
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
        t.append(c & 0xffff)
    return t
T = table()
def slot(k):
    c = 0
    for b in k:
        c = ((c << 8) & 0xffff) ^ T[((c >> 8) ^ b) & 0xff]
    return c & 16383
owners = []  # (lo, hi, file index) from "lo hi idx" lines on stdin
for line in sys.stdin:
    lo, hi, idx = map(int, line.split())
    owners.append((lo, hi, idx))
def owner(s):
    for lo, hi, idx in owners:
        if lo <= s <= hi:
            return idx
files = [open(p, "wb", buffering=1 << 20) for p in out]
pad = "x" * 330
for i in range(start, start + n):
    k = b"state:%012d" % i
    v = ("{\"current\":\"BOOK_EMAIL\",\"data\":{\"name\":\"User %d\",\"email\":\"user%d@example.com\",\"phone\":\"+1555%07d\"},\"history\":[\"WELCOME\",\"BOOK_NAME\"],\"notes\":\"%s\",\"updatedAt\":\"2026-11-22T03:10:00Z\"}" % (i, i, i, pad)).encode()
    cmd = b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n" % (len(k), k, len(v), v)
    files[owner(slot(k)) if len(files) > 1 else 0].write(cmd)
'
# The single server: ids 0..n-1. The cluster: ids 0..3n-1, each command to its slot's owner.
echo "0 16383 0" | python3 -c "$gen" "$n" 0 "$dir/single.resp"
redis-cli -p "$single" --pipe <"$dir/single.resp" >/dev/null
rm -f "$dir/single.resp"
# "lo hi node-index" for every slot range, from CLUSTER NODES.
slots=$(redis-cli -p "${ports[0]}" cluster nodes | awk -v a="${ports[0]}" -v b="${ports[1]}" \
  '/master/ { split($2, h, "[:@]"); i = (h[2] == a) ? 0 : (h[2] == b) ? 1 : 2
              for (f = 9; f <= NF; f++) { n = split($f, r, "-"); print r[1], (n == 2 ? r[2] : r[1]), i } }')
echo "$slots" | python3 -c "$gen" "$((3 * n))" 0 "$dir/n0.resp" "$dir/n1.resp" "$dir/n2.resp"
for i in 0 1 2; do redis-cli -p "${ports[$i]}" --pipe <"$dir/n$i.resp" >/dev/null & done
wait
rm -f "$dir"/n?.resp
total=0
for p in "${ports[@]}"; do total=$((total + $(redis-cli -p "$p" dbsize))); done
echo "bench: single server $(redis-cli -p "$single" dbsize) keys, cluster $total keys" >&2

one="redis://127.0.0.1:$single/0"
many="redis://127.0.0.1:${ports[1]}/0"
hf() {  # name, candidate (cluster), reference (single)
  hyperfine --style basic --warmup 1 --runs "$runs" --export-csv "$dir/$1.csv" -n cluster "$2" -n single "$3" >&2
}
hf list "$bin -u $many list -o jsonl >/dev/null" "$bin -u $one list -o jsonl >/dev/null"
hf wide "$bin -u $many list --wide -o jsonl >/dev/null" "$bin -u $one list --wide -o jsonl >/dev/null"
count=$("$bin" -u "$many" list -o jsonl | wc -l)
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
rss_list=$(rss "$bin" -u "$many" list -o jsonl)
rss_wide=$(rss "$bin" -u "$many" list --wide -o jsonl)

median() { awk -F, -v who="$2" '$1 == who { print $4 }' "$dir/$1.csv"; }
row() {  # name, what
  local c s
  c=$(median "$1" cluster) s=$(median "$1" single)
  awk -v what="$2" -v c="$c" -v s="$s" 'BEGIN { printf "| %s | %.2f s | %.2f s | %.2f× |\n", what, c, s, c / s }'
}
echo
echo "| command | $((3 * n)) on a 3-primary cluster | $n on one server | ratio (target ≤ 2.5×) |"
echo "|---|---|---|---|"
row list "\`list -o jsonl\`"
row wide "\`list --wide -o jsonl\`"
echo
echo "Cluster listing counted $count sessions (expected $((3 * n))). Peak RSS on the cluster: \`list\` $((rss_list / 1024)) MiB, \`--wide\` $((rss_wide / 1024)) MiB (target ≤ 64)."
