#!/usr/bin/env bash
# Fuzzes every parser target of nn's ParserFuzzTest with Jazzer, one JVM per target (Jazzer
# fuzzes one @FuzzTest per run), each for the maxDuration on its annotation (30 s), and prints
# the executions each reached. A finding fails the run; Jazzer writes its input under
# nn/src/test/resources/dev/isthmus/nn/data/ParserFuzzTestInputs/<target>/ where, once fixed,
# it stays as a regression test.
#   bench/fuzz.sh                 every target
#   bench/fuzz.sh idxImages ...   the named ones
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
((${#targets[@]})) || targets=(idxImages idxLabels safetensors metadataJson imageDecode)
# Maven's JVM must be a JDK 25 (release 25), as in ./isthmus.
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/javac" ]]; then
    for j in $(ls -d /usr/lib/jvm/*/bin/javac 2>/dev/null | sort -rV); do
        if "$j" -version 2>&1 | grep -Eq 'javac (2[5-9]|[3-9][0-9])'; then JAVA_HOME="$(dirname "$(dirname "$j")")"; break; fi
    done
    export JAVA_HOME
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mkdir -p target
status=0
for t in "${targets[@]}"; do
    log="target/fuzz-$t.log"
    if JAZZER_FUZZ=1 mvn -B -ntp test -pl nn -am -Dtest="ParserFuzzTest#$t" -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
        result=ok
    else
        result="FINDING or failure (see $log)"
        status=1
    fi
    runs="$(grep -a -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)"
    echo "fuzz $t: ${runs:-no fuzzing summary}; $result"
done
exit $status
