#!/usr/bin/env bash
# Resident memory of `./isthmus serve` under sustained load: wrk at 64 connections until the
# server has answered REQUESTS (default 1,000,000), reading /metrics after the first 10,000
# and at the end. The Java heap is fixed (-Xms = -Xmx = HEAP, default 256m) so that the
# figure shows native growth, not G1 sizing its heap to the load.
#
#   bench/serve/memory.sh MODEL.safetensors [REQUESTS=1000000] [serve flags]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
model=${1:?usage: memory.sh MODEL.safetensors [REQUESTS] [serve flags]}
target=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))
data=${ISTHMUS_DATA:-$root/../shared/data/mnist}
png=$(mktemp --suffix=.png)
python3 "$here/digit_png.py" "$data/t10k-images-idx3-ubyte.gz" "$png" 0
port=${PORT:-18081}
log=$(mktemp)
heap=${HEAP:-256m}
ISTHMUS_JAVA_OPTS="-Xms$heap -Xmx$heap" "$root/isthmus" serve --model "$model" --port "$port" "$@" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -f "$png" "$log"' EXIT
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
metric() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
load() {   # wrk at 64 connections until requests_total reaches $1
  PNG=$png wrk -t 2 -c 64 -d 3600s --timeout 5s -s "$here/post.lua" "http://127.0.0.1:$port/v1/predict" >/dev/null &
  local w=$!
  while (( $(metric isthmus_requests_total) < $1 )); do sleep 0.5; done
  kill $w; wait $w 2>/dev/null || true
}
load 10000
first=$(metric isthmus_resident_memory_bytes)
echo "after $(metric isthmus_requests_total) requests: resident $((first / 1048576)) MiB"
start=$(date +%s)
load "$target"
last=$(metric isthmus_resident_memory_bytes)
echo "after $(metric isthmus_requests_total) requests ($(( $(date +%s) - start )) s more): resident $((last / 1048576)) MiB," \
     "$(awk -v a="$first" -v b="$last" 'BEGIN {printf "%+.1f%%", 100 * (b - a) / a}') ; errors $(metric isthmus_errors_total)"
