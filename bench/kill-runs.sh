#!/usr/bin/env bash
# Kills `lenet` and `alexnet --synthetic` training runs at random moments (kill -9, SIGINT or
# SIGTERM, in turn) and checks that no file is lost or left behind: after every kill the run
# folder's model.safetensors and metrics.json, when present, are whole (the safetensors header
# and data agree with the file's length, the JSON parses); the next start in the folder (a
# --resume when a checkpoint exists) removes every leftover temporary file and scratch folder;
# and nothing is left in the system temp folder. Bounded: N kills per command (default 5).
#   bench/kill-runs.sh [N] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-5}"
RANDOM="${2:-14}"
work="$(mktemp -d "${TMPDIR:-/tmp}/isthmus-kills-XXXXXX")"
trap 'rm -rf "$work"' EXIT
before_tmp="$( (ls -d "${TMPDIR:-/tmp}"/isthmus-shapes-* 2>/dev/null || true) | wc -l)"
kills=0 problems=0

# Prints a problem with the folder's files, if any.
check_folder() {
    python3 - "$1" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
m = os.path.join(d, "model.safetensors")
if os.path.exists(m):
    size = os.path.getsize(m)
    with open(m, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8: print("model.safetensors: %d bytes" % size); sys.exit()
        n = struct.unpack("<Q", raw)[0]
        header = json.loads(f.read(n))
    end = max([v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"] + [0])
    if 8 + n + end != size: print("model.safetensors: header promises %d bytes, file has %d" % (8 + n + end, size))
p = os.path.join(d, "metrics.json")
if os.path.exists(p):
    try: json.load(open(p))
    except Exception as e: print("metrics.json: %s" % e)
PY
}

leftovers() { find "$1" -maxdepth 1 \( -name '.*.tmp' -o -name '.shapes-*' \) | wc -l; }

run_and_kill() {   # $1 name, $2 seconds before the kill, then the command line
    local name="$1" delay="$2"; shift 2
    local out="$work/$name" sig
    case $((kills % 3)) in 0) sig=KILL ;; 1) sig=INT ;; *) sig=TERM ;; esac
    local resume=()
    [[ -f "$out/model.safetensors" ]] && resume=(--resume "$out/model.safetensors")
    # SIGINT is ignored by background jobs of a script: reset it for the run (python's exec keeps SIG_DFL).
    python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
        ./isthmus "$@" --out "$out" "${resume[@]}" >"$work/$name.log" 2>&1 &
    local pid=$!
    sleep "$delay"
    kill -s "$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    local said
    said="$(tr '\r' '\n' <"$work/$name.log" | grep -a 'interrupted at\|^wrote \|removed ' | tr '\n' ' ' || true)"
    echo "kill $((kills)): $name, SIG$sig after $delay s: ${said:-(nothing printed: killed before training or by SIGKILL)}"
    local p
    p="$(check_folder "$out")"
    if [[ -n "$p" ]]; then echo "kill $kills ($name, $sig after $delay s): $p"; problems=$((problems + 1)); fi
    if [[ "$sig" != KILL ]] && grep -q "writing to" "$work/$name.log" && ! grep -q 'interrupted at\|wrote ' "$work/$name.log"; then
        echo "kill $kills ($name, SIG$sig after $delay s): the run said nothing of what it kept"; problems=$((problems + 1))
    fi
}

./isthmus help >/dev/null 2>&1   # builds when needed, outside the timed kills
for ((i = 0; i < N; i++)); do
    run_and_kill lenet $((8 + RANDOM % 25)) lenet --epochs 30 --limit 3000 --validation 100 --batch 32
done
for ((i = 0; i < N; i++)); do
    run_and_kill alexnet $((10 + RANDOM % 36)) alexnet --synthetic --per-class 20 --epochs 30 --batch 8
done
# The next start in each folder removes what the kills left: a short run over it (--overwrite).
for name in lenet alexnet; do
    [[ -d "$work/$name" ]] || continue
    before="$(leftovers "$work/$name")"
    if [[ $name == lenet ]]; then
        ./isthmus lenet --epochs 1 --limit 200 --validation 0 --batch 32 --out "$work/$name" --overwrite >"$work/after.log" 2>&1 || true
    else
        ./isthmus alexnet --synthetic --per-class 10 --epochs 1 --batch 8 --out "$work/$name" --overwrite >"$work/after.log" 2>&1 || true
    fi
    after="$(leftovers "$work/$name")"
    echo "$name: $before leftovers after the kills, $after after the next start"
    if ((after != 0)); then problems=$((problems + 1)); fi
done
after_tmp="$( (ls -d "${TMPDIR:-/tmp}"/isthmus-shapes-* 2>/dev/null || true) | wc -l)"
if ((after_tmp != before_tmp)); then echo "system temp folder: $((after_tmp - before_tmp)) isthmus-shapes-* folders left"; problems=$((problems + 1)); fi
echo "kill-runs: $kills kills, $problems problems"
((problems == 0))
