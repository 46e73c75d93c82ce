#!/usr/bin/env bash
# bench/gpu/prepare.sh: run on a build machine (JDK 25, Maven, the repo built with nvcc present)
# to gather what bench/gpu/check.sh needs on a GPU machine into bench/gpu/work/ (git-ignored):
#
#   work/lib/        the jars: bindings, engine (with its PTX), engine tests, nn, examples
#   work/junit/      junit-platform-console-standalone (mvn dependency:copy, once)
#   work/mnist/      the four MNIST .gz files (from ../shared/data/mnist or $ISTHMUS_MNIST)
#   work/jdk.tar.xz  a jlinked Java runtime (also left unpacked in .jdk/ here); --no-jdk skips it
#                    for a GPU machine that has a JDK 25 of its own
#
# It checks that the engine jar holds the PTX and the tests jar the CUDA tests, and prints the
# size of work/ (the device tool carries at most 64 MiB). It builds nothing: build first with
#   mvn -B -ntp -DskipTests package      (from the repo root, where nvcc is installed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$ROOT/bench/gpu/work"
VERSION="0.1.0-SNAPSHOT"
JUNIT_CONSOLE_VERSION="${JUNIT_CONSOLE_VERSION:-1.13.4}"   # the JUnit Platform of the root pom's JUnit 5.13.4
MNIST="${ISTHMUS_MNIST:-$ROOT/../shared/data/mnist}"
# What the jars need (jdeps --print-module-deps over them and the JUnit console: java.base,
# java.desktop for the PNG figures, jdk.management, java.sql for JUnit's console), plus the Vector API
# and jdk.zipfs (JUnit scans the tests jar for test classes through the zip file system).
MODULES="java.base,java.desktop,java.logging,java.management,java.sql,jdk.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector"
WITH_JDK=1
[[ "${1:-}" == "--no-jdk" ]] && WITH_JDK=0

die() { echo "prepare.sh: $*" >&2; exit 1; }

[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/jlink" ]] || die "JAVA_HOME must name a JDK 25 (with jlink and jar), e.g. /usr/lib/jvm/temurin-25-jdk-amd64"

jars=("$ROOT/bindings/target/isthmus-bindings-$VERSION.jar" "$ROOT/engine/target/isthmus-engine-$VERSION.jar"
      "$ROOT/engine/target/isthmus-engine-$VERSION-tests.jar" "$ROOT/nn/target/isthmus-nn-$VERSION.jar"
      "$ROOT/examples/target/isthmus-examples-$VERSION.jar")
for j in "${jars[@]}"; do
    [[ -f "$j" ]] || die "$j is missing: build first (mvn -B -ntp -DskipTests package from $ROOT)"
done
"$JAVA_HOME/bin/jar" tf "$ROOT/engine/target/isthmus-engine-$VERSION.jar" | grep -q '^dev/isthmus/engine/cuda/kernels.properties$' \
    || die "the engine jar has no PTX (dev/isthmus/engine/cuda/kernels.properties): build it where nvcc is installed, with the cuda-ptx profile"
"$JAVA_HOME/bin/jar" tf "$ROOT/engine/target/isthmus-engine-$VERSION-tests.jar" | grep -q '^dev/isthmus/engine/cuda/CudaOpsTest.class$' \
    || die "the engine tests jar has no dev/isthmus/engine/cuda/CudaOpsTest.class: rebuild it (mvn -DskipTests package keeps test classes)"

mkdir -p "$WORK"
rm -rf "$WORK/out"   # an earlier check's output, which would travel along
rm -rf "$WORK/lib" && mkdir -p "$WORK/lib" && cp "${jars[@]}" "$WORK/lib/"

if ! ls "$WORK"/junit/junit-platform-console-standalone-"$JUNIT_CONSOLE_VERSION".jar >/dev/null 2>&1; then
    (cd "$ROOT" && mvn -N -B -ntp -q dependency:copy \
        -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE_VERSION" -DoutputDirectory="$WORK/junit") \
        || die "could not fetch junit-platform-console-standalone $JUNIT_CONSOLE_VERSION with mvn dependency:copy"
fi

mkdir -p "$WORK/mnist"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [[ -f "$MNIST/$f.gz" ]] || die "$MNIST/$f.gz is missing: set ISTHMUS_MNIST to a folder with the four MNIST .gz files"
    cp "$MNIST/$f.gz" "$WORK/mnist/"
done

if (( WITH_JDK )); then
    # Re-jlink only when the JDK or the module list changed (the stamp records both).
    stamp="$("$JAVA_HOME/bin/java" -version 2>&1 | head -1); $MODULES"
    if [[ ! -f "$WORK/jdk.tar.xz" || "$(cat "$WORK/jdk.stamp" 2>/dev/null)" != "$stamp" ]]; then
        echo "prepare.sh: jlink $MODULES into $ROOT/.jdk, then packing it (xz takes a few minutes)" >&2
        rm -rf "$ROOT/.jdk"
        # Uncompressed modules (no --compress) pack smaller under xz than zip-compressed ones.
        "$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
            --strip-native-debug-symbols=exclude-debuginfo-files --output "$ROOT/.jdk"
        tar -cf - -C "$ROOT" .jdk | xz -T0 -6 > "$WORK/jdk.tar.xz.tmp"
        mv "$WORK/jdk.tar.xz.tmp" "$WORK/jdk.tar.xz"
        echo "$stamp" > "$WORK/jdk.stamp"
    fi
else
    rm -f "$WORK/jdk.tar.xz" "$WORK/jdk.stamp"
fi

du -sh "$WORK"/* | sed 's/^/  /'
size=$(du -sm "$WORK" | cut -f1)
echo "prepare.sh: bench/gpu/work is $size MiB$( ((size > 64)) && echo ' (over the device tool'"'"'s 64 MiB carry: use --no-jdk where the GPU machine has a JDK 25)');" \
     "on the GPU machine run: bash bench/gpu/check.sh"
