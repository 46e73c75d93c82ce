#!/usr/bin/env bash
# Regenerates the FFM bindings of bindings/ with jextract 22+ (https://jdk.java.net/jextract/).
# Run from the repository root: bindings/jextract/jextract.sh [path/to/dnnl-3.13-1.5.14-linux-x86_64.jar]
# Headers: oneDNN's from the natives jar; GCC's omp.h; OpenCL's from $OPENCL_INCLUDE (default
# /usr/include: apt-get install opencl-c-headers); cuda.h from $CUDA_HOME/include (default
# /usr/local/cuda). The symbols are then taken from dev.isthmus.bindings.NativeLibraries instead of
# jextract's own library lookup (the perl lines below).
# Where jextract is not installed, `java bindings/jextract/Generate.java` writes the same layout
# (it does not write the upcall classes jextract adds for function-pointer parameters, such as
# clBuildProgram$pfn_notify; those parameters are plain pointers either way).
set -euo pipefail
jar="${1:-$HOME/.m2/repository/org/bytedeco/dnnl/3.13-1.5.14/dnnl-3.13-1.5.14-linux-x86_64.jar}"
opencl_include="${OPENCL_INCLUDE:-/usr/include}"
cuda_include="${CUDA_HOME:-/usr/local/cuda}/include"
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

# OpenCL: the headers' default target (3.0) with the 1.2 entry points undeprecated; see
# includes-opencl.txt. The ICD loader's soname; NativeLibraries finds it.
jextract --output "$out" \
  -t dev.isthmus.bindings.opencl --header-class-name cl_h \
  -I "$opencl_include" \
  -D CL_TARGET_OPENCL_VERSION=300 -D CL_USE_DEPRECATED_OPENCL_1_2_APIS \
  -l :libOpenCL.so.1 \
  @bindings/jextract/includes-opencl.txt \
  "$opencl_include/CL/cl.h"

# CUDA driver API: includes-cuda.txt names the versioned symbols cuda.h #defines (cuMemAlloc_v2).
jextract --output "$out" \
  -t dev.isthmus.bindings.cuda --header-class-name cuda_h \
  -I "$cuda_include" \
  -l :libcuda.so.1 \
  @bindings/jextract/includes-cuda.txt \
  "$cuda_include/cuda.h"

# Symbols come from our loader (explicit path, else the natives jar), not from dlopen by name.
# jextract's initializer spans several lines (.or(...)), hence perl -0 and a lazy match up to ';'.
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = dev.isthmus.bindings.NativeLibraries.dnnl().lookup();/s' \
  "$out/dev/isthmus/bindings/dnnl/dnnl_h.java"
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = dev.isthmus.bindings.NativeLibraries.gomp().lookup();/s' \
  "$out/dev/isthmus/bindings/omp/omp_h.java"
# OpenCL and CUDA are looked up lazily, on a function's first call: their constants work, and
# their absence is NativeLibraries' clear error, where no driver is installed.
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = name -> dev.isthmus.bindings.NativeLibraries.openCl().lookup().find(name);/s' \
  "$out/dev/isthmus/bindings/opencl/cl_h.java"
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = name -> dev.isthmus.bindings.NativeLibraries.cuda().lookup().find(name);/s' \
  "$out/dev/isthmus/bindings/cuda/cuda_h.java"

# Open MPI (Debian's libopenmpi-dev): see includes-mpi.txt for why the predefined handles are not bound.
mpi_include="${MPI_INCLUDE:-/usr/lib/x86_64-linux-gnu/openmpi/include}"
jextract --output "$out" \
  -t dev.isthmus.bindings.mpi --header-class-name mpi_h \
  -I "$mpi_include" \
  -l :libmpi.so.40 \
  @bindings/jextract/includes-mpi.txt \
  "$mpi_include/mpi.h"
perl -0pi -e 's/static final SymbolLookup SYMBOL_LOOKUP = .*?;/static final SymbolLookup SYMBOL_LOOKUP = name -> dev.isthmus.bindings.NativeLibraries.mpi().lookup().find(name);/s' \
  "$out/dev/isthmus/bindings/mpi/mpi_h.java"
