#!/usr/bin/env bash
# Load test of `./isthmus serve` with wrk (Debian package wrk) on 127.0.0.1, bounded in time:
# starts the server on a model file, POSTs one MNIST test digit as a PNG at 1, 8 and 64
# connections for SECONDS each, prints wrk's summary (throughput, latency percentiles, non-2xx
# answers) and the server's resident memory from /metrics after each run, then stops the server.
#
#   bench/serve/wrk.sh MODEL.safetensors [SECONDS=10] [extra serve flags, e.g. --max-batch 32 --max-delay-us 100]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
model=${1:?usage: wrk.sh MODEL.safetensors [SECONDS] [serve flags]}
seconds=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))
command -v wrk >/dev/null || { echo "wrk.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
data=${ISTHMUS_DATA:-$root/../shared/data/mnist}
png=$(mktemp --suffix=.png)
python3 "$here/digit_png.py" "$data/t10k-images-idx3-ubyte.gz" "$png" 0
port=${PORT:-18080}
log=$(mktemp)
# its own process group: the isthmus script does not pass a signal on to the java it runs
setsid "$root/isthmus" serve --model "$model" --port "$port" "$@" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -f "$png" "$log"' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
cat "$log"
rss() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^isthmus_resident_memory_bytes/ {printf "%.1f MiB", $2 / 1048576}'; }
# warm-up: the JIT and every context's plan
PNG=$png wrk -t 2 -c 8 -d 3s -s "$here/post.lua" "http://127.0.0.1:$port/v1/predict" >/dev/null
echo "resident after warm-up: $(rss)"
for c in 1 8 64; do
  echo "== $c connections, ${seconds}s"
  PNG=$png wrk -t $(( c < 2 ? 1 : 2 )) -c "$c" -d "${seconds}s" --timeout 5s --latency -s "$here/post.lua" \
      "http://127.0.0.1:$port/v1/predict"
  echo "resident: $(rss)"
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^isthmus_(requests|errors)_total|_count '
