#!/usr/bin/env bash
# Regenerates the FFM bindings of bindings/ with jextract 22+ (https://jdk.java.net/jextract/).
# Run from the repository root: bindings/jextract/jextract.sh [path/to/dnnl-3.13-1.5.14-linux-x86_64.jar]
# The headers come from the natives jar; the symbols are then taken from
# dev.isthmus.bindings.NativeLibraries instead of jextract's own library lookup (the sed below).
# Where jextract is not installed, `java bindings/jextract/Generate.java` writes the same layout.
set -euo pipefail
jar="${1:-$HOME/.m2/repository/org/bytedeco/dnnl/3.13-1.5.14/dnnl-3.13-1.5.14-linux-x86_64.jar}"
out=bindings/src/main/java
include="$(mktemp -d)"
trap 'rm -rf "$include"' EXIT
unzip -q "$jar" 'org/bytedeco/dnnl/linux-x86_64/include/*' -d "$include"
include="$include/org/bytedeco/dnnl/linux-x86_64/include"

jextract --output "$out" \
  -t dev.isthmus.bindings.dnnl --header-class-name dnnl_h \
  -I "$include" \
  -l :libdnnl.so.3 \
  @bindings/jextract/includes-dnnl.txt \
  "$include/oneapi/dnnl/dnnl.h"

jextract --output "$out" \
  -t dev.isthmus.bindings.omp --header-class-name omp_h \
  -l :libgomp.so.1 \
  @bindings/jextract/includes-omp.txt \
  "$(gcc -print-file-name=include/omp.h)"

# Symbols come from our loader (explicit path, else the natives jar), not from dlopen by name.
# jextract's initializer spans several lines (.or(...)), hence perl -0 and a lazy match up to ';'.
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = dev.isthmus.bindings.NativeLibraries.dnnl().lookup();/s' \
  "$out/dev/isthmus/bindings/dnnl/dnnl_h.java"
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = dev.isthmus.bindings.NativeLibraries.gomp().lookup();/s' \
  "$out/dev/isthmus/bindings/omp/omp_h.java"
