#!/usr/bin/env bash
# bench/gpu/check.sh: the GPU check of the cuda backend, for a machine with an NVIDIA GPU and
# driver but maybe no JDK and no Maven. Prepare its inputs on a build machine first with
# bench/gpu/prepare.sh (README.md says what travels). In about 8 minutes at most on an H100 it:
#
#   1. prints nvidia-smi (the GPU, the driver, its CUDA version);
#   2. runs the CUDA and OpenCL op tests of the engine's test jar (every op forward and backward
#      against the reference backend, dropout bit for bit) with the JUnit console launcher;
#   3. trains LeNet-5 for one epoch on MNIST with --backend cuda (images/s, test error);
#   4. trains AlexNet (paper variant, batch 128) on --synthetic shapes for 2 epochs with
#      --backend cuda, when the alexnet command exists (images/s of the second, warm epoch);
#   5. prints a short report (also written to report.txt).
#
# Output goes to $OUT when set (the device tool collects it), else bench/gpu/work/out.
# Exit status: 0 when the tests and LeNet passed; 1 otherwise; 2 when a prerequisite is missing.
# Environment: CHECK_SECONDS (total budget, default 460), ISTHMUS_CUDA_DEVICE (ordinal, default 0),
# ALEXNET_ARGS (replaces the alexnet flags after --backend cuda).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$ROOT/bench/gpu/work"
OUTDIR="${OUT:-$WORK/out}"
START=$(date +%s)
DEADLINE=$((START + ${CHECK_SECONDS:-460}))
REPORT=()

die() { echo "check.sh: $*" >&2; exit 2; }
step() { echo; echo "== $* ($(( $(date +%s) - START )) s)"; }
note() { REPORT+=("$*"); echo ">> $*"; }
# Seconds a step may take: at most $1, and never past the deadline (less 15 s for the report).
budget() {
    local left=$((DEADLINE - $(date +%s) - 15))
    (( left < $1 )) && echo $(( left > 10 ? left : 10 )) || echo "$1"
}

mkdir -p "$OUTDIR" || die "cannot create the output folder $OUTDIR"

# ---- prerequisites, each with what to do about it

[[ -d "$WORK" ]] || die "$WORK is missing: run bench/gpu/prepare.sh on a build machine and bring bench/gpu/work along"
command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: this machine has no NVIDIA driver (libcuda.so.1 comes with it)"

java_major() { "$1" -version 2>&1 | sed -n 's/.* version "\([0-9][0-9]*\).*/\1/p' | head -1; }
find_java() {
    if [[ ! -x "$ROOT/.jdk/bin/java" && -f "$WORK/jdk.tar.xz" ]]; then
        echo "check.sh: unpacking the Java runtime $WORK/jdk.tar.xz into $ROOT/.jdk" >&2
        local unpack="$ROOT/.jdk.unpack"   # the archive holds .jdk/...
        rm -rf "$unpack" && mkdir -p "$unpack"
        if command -v xz >/dev/null 2>&1; then
            tar -xJf "$WORK/jdk.tar.xz" -C "$unpack" || die "cannot unpack $WORK/jdk.tar.xz"
        elif command -v python3 >/dev/null 2>&1; then
            python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$WORK/jdk.tar.xz" "$unpack" \
                || die "cannot unpack $WORK/jdk.tar.xz with python3"
        else
            die "neither xz nor python3 is here to unpack $WORK/jdk.tar.xz: install xz-utils, or bring .jdk/ itself"
        fi
        mv "$unpack/.jdk" "$ROOT/.jdk" && rm -rf "$unpack"
    fi
    local j
    for j in "$ROOT/.jdk/bin/java" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)"; do
        if [[ -n "$j" && -x "$j" && "$(java_major "$j")" -ge 25 ]] 2>/dev/null; then echo "$j"; return 0; fi
    done
    return 1
}
JAVA="$(find_java)" || die "no Java 25 runtime: expected $ROOT/.jdk (jlink, see README.md), $WORK/jdk.tar.xz, JAVA_HOME or java on the PATH"
for module in jdk.incubator.vector jdk.zipfs java.desktop; do
    "$JAVA" --list-modules 2>/dev/null | grep -q "^$module@" \
        || die "$JAVA lacks the module $module: jlink it with the modules README.md lists"
done
FLAGS=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g
       -Disthmus.cuda.device="${ISTHMUS_CUDA_DEVICE:-0}")

jar_of() {   # the one jar matching a glob in $WORK/lib, or die
    local matches=("$WORK"/lib/$1)
    [[ -f "${matches[0]}" ]] || die "no $1 in $WORK/lib: run bench/gpu/prepare.sh after building the jars"
    echo "${matches[0]}"
}
CP="$(jar_of 'isthmus-bindings-*.jar'):$(jar_of 'isthmus-engine-*[0-9T].jar'):$(jar_of 'isthmus-engine-*-tests.jar')"
CP="$CP:$(jar_of 'isthmus-nn-*.jar'):$(jar_of 'isthmus-examples-*.jar')"
JUNIT="$(ls "$WORK"/junit/junit-platform-console-standalone-*.jar 2>/dev/null | head -1)"
[[ -n "$JUNIT" ]] || die "no JUnit console launcher in $WORK/junit: run bench/gpu/prepare.sh (mvn dependency:copy fetches it)"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [[ -f "$WORK/mnist/$f.gz" || -f "$WORK/mnist/$f" ]] || die "MNIST file $f[.gz] missing from $WORK/mnist: run bench/gpu/prepare.sh"
done
main() { "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.isthmus.examples.Main "$@"; }

# ---- 1. the GPU

step "nvidia-smi"
nvidia-smi || die "nvidia-smi fails: the driver does not work"
GPU="$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader -i "${ISTHMUS_CUDA_DEVICE:-0}" 2>/dev/null || true)"
note "GPU: ${GPU:-unknown} (name, driver, memory, compute capability); Java: $("$JAVA" -version 2>&1 | head -1)"

# ---- 2. the op tests

step "CUDA and OpenCL op tests (JUnit console launcher)"
set +e
(cd "$ROOT/engine" && timeout "$(budget 200)" "$JAVA" "${FLAGS[@]}" -jar "$JUNIT" execute --class-path "$CP" \
    --select-package dev.isthmus.engine.cuda --select-package dev.isthmus.engine.opencl \
    --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii --reports-dir "$OUTDIR/junit") \
    > "$OUTDIR/tests.log" 2>&1
TESTS_RC=$?
set -e
grep -E '^\[ +[0-9]+ (tests|containers) ' "$OUTDIR/tests.log" || true
grep -E 'cuda: device|opencl: platform' "$OUTDIR/tests.log" | sort -u | head -3 || true
COUNTS="$(grep -E '^\[ +[0-9]+ tests (successful|failed|aborted|skipped) ' "$OUTDIR/tests.log" | sed 's/^\[ *//; s/ *\]$//' | paste -sd, - || true)"
if (( TESTS_RC == 0 )); then
    note "tests: passed (${COUNTS:-no summary}); log tests.log, XML in junit/"
else
    grep -E 'MethodSource|=> |Exception|Error' "$OUTDIR/tests.log" | head -40 || true
    note "tests: FAILED, exit $TESTS_RC$( ((TESTS_RC == 124)) && echo ' (timed out)') (${COUNTS:-no summary}); see tests.log"
fi
if grep -q 'the cuda backend cannot run here' "$OUTDIR/tests.log"; then
    note "cuda skipped: $(grep -m1 -o 'the cuda backend cannot run here[^]]*' "$OUTDIR/tests.log" | cut -c1-300)"
fi

# ---- 3. LeNet-5 on MNIST

step "LeNet-5, 1 epoch on MNIST, --backend cuda"
set +e
timeout "$(budget 150)" "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.isthmus.examples.Main lenet --backend cuda --epochs 1 \
    --data "$WORK/mnist" --out "$OUTDIR/lenet" 2>&1 | tr '\r' '\n' | grep -v ' eta ' | tee "$OUTDIR/lenet.log"
LENET_RC=${PIPESTATUS[0]}
set -e
EPOCH="$(grep -E '^epoch ' "$OUTDIR/lenet.log" | tail -1 || true)"
if (( LENET_RC == 0 )); then
    note "LeNet-5 cuda: $(echo "$EPOCH" | grep -oE '[0-9,]+ img/s' || echo '? img/s'); $(grep -m1 '^test error' "$OUTDIR/lenet.log" || true)"
else
    note "LeNet-5 cuda: FAILED, exit $LENET_RC$( ((LENET_RC == 124)) && echo ' (timed out)'): $(grep -m1 'isthmus lenet:' "$OUTDIR/lenet.log" || tail -1 "$OUTDIR/lenet.log")"
fi

# ---- 4. AlexNet training steps

step "AlexNet, --synthetic, batch 128, --backend cuda"
if main help alexnet >/dev/null 2>&1; then
    read -r -a ALEX <<< "${ALEXNET_ARGS:---synthetic --per-class 128 --epochs 2 --batch 128 --variant paper}"
    set +e
    timeout "$(budget 150)" "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.isthmus.examples.Main alexnet --backend cuda "${ALEX[@]}" \
        --out "$OUTDIR/alexnet" 2>&1 | tr '\r' '\n' | grep -v ' eta ' | tee "$OUTDIR/alexnet.log"
    ALEX_RC=${PIPESTATUS[0]}
    set -e
    LAST="$(grep -E '^epoch ' "$OUTDIR/alexnet.log" | tail -1 || true)"
    if [[ -n "$LAST" ]]; then
        note "AlexNet cuda (${ALEX[*]}): $(echo "$LAST" | grep -oE '[0-9,]+ img/s') in the last epoch$( ((ALEX_RC != 0)) && echo ", then exit $ALEX_RC")"
    else
        note "AlexNet cuda: no epoch finished, exit $ALEX_RC$( ((ALEX_RC == 124)) && echo ' (timed out)'): $(grep -m1 'isthmus alexnet:' "$OUTDIR/alexnet.log" || tail -1 "$OUTDIR/alexnet.log")"
    fi
else
    note "AlexNet: skipped, this build has no alexnet command"
fi

# ---- 5. the report

step "report"
{
    echo "Isthmus GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), $(( $(date +%s) - START )) s, on $(hostname)"
    for line in "${REPORT[@]}"; do echo "  $line"; done
} | tee "$OUTDIR/report.txt"
(( TESTS_RC == 0 && LENET_RC == 0 )) && exit 0 || exit 1
