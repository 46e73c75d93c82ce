#!/usr/bin/env bash
# build-ptx.sh OUTDIR: compiles every .cu file beside this script to PTX for the cuda backend and
# writes OUTDIR/<family>.ptx (one per file: conv, pool, ...) plus OUTDIR/kernels.properties.
# Maven runs it in generate-resources with OUTDIR = target/classes/dev/isthmus/engine/cuda, so
# the PTX ends up in the engine jar; the tests run it into a temporary folder.
#
#   nvcc -ptx -arch=compute_75     PTX for the oldest GPU nvcc 13 targets (Turing); the driver
#                                  JIT-compiles PTX forward to any newer GPU (Ampere, Hopper...)
#   .version lowered to PTX_ISA    nvcc 13 stamps PTX ISA 9.0, which only drivers of CUDA 13 (r580)
#                                  load; the kernels use nothing newer than ISA 7.0 (CUDA 11.0), so
#                                  the stamp is lowered, then ptxas proves the lowered file valid
#   ptxas -arch=sm_75              validates every file the way the driver's JIT will
#
# Without nvcc it builds nothing and exits 0: the backend then says at construction that no PTX
# was built. Files are rebuilt only when a .cu, a .cuh or this script is newer than the output.
# Environment: NVCC (the compiler to use), CUDA_HOME, PTX_ISA (default 7.0; "keep" keeps nvcc's).
set -euo pipefail

out="${1:?usage: build-ptx.sh OUTDIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch=compute_75
isa="${PTX_ISA:-7.0}"

find_nvcc() {
    if [[ -n "${NVCC:-}" ]]; then echo "$NVCC"; return 0; fi
    if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return 0; fi
    local home
    for home in "${CUDA_HOME:-}" /usr/local/cuda; do
        if [[ -n "$home" && -x "$home/bin/nvcc" ]]; then echo "$home/bin/nvcc"; return 0; fi
    done
    return 1
}

if ! nvcc="$(find_nvcc)"; then
    echo "build-ptx.sh: nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin): no PTX built;" \
         "the cuda backend will say so at construction. Install the CUDA toolkit to build it." >&2
    exit 0
fi
[[ -x "$nvcc" ]] || { echo "build-ptx.sh: NVCC=$nvcc is not an executable" >&2; exit 1; }
# ptxas sits beside the real nvcc (which may be behind a wrapper script on the PATH).
ptxas="$(dirname "$nvcc")/ptxas"
[[ -x "$ptxas" ]] || ptxas="$(command -v ptxas || true)"
[[ -n "$ptxas" && -x "$ptxas" ]] || { echo "build-ptx.sh: ptxas not found beside $nvcc or on the PATH" >&2; exit 1; }
version="$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\), V\([0-9.]*\).*/\2/p')"

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

families=()
built=0
for cu in "$here"/*.cu; do
    family="$(basename "$cu" .cu)"
    families+=("$family")
    ptx="$out/$family.ptx"
    if [[ -f "$ptx" && "$ptx" -nt "$cu" && "$ptx" -nt "${BASH_SOURCE[0]}" ]] \
            && [[ -z "$(find "$here" -name '*.cuh' -newer "$ptx" -print -quit)" ]]; then
        continue
    fi
    "$nvcc" -ptx -arch="$arch" -std=c++17 -I"$here" "$cu" -o "$tmp/$family.ptx"
    if [[ "$isa" != keep ]]; then
        grep -q '^\.version ' "$tmp/$family.ptx" || { echo "build-ptx.sh: no .version line in $family.ptx" >&2; exit 1; }
        sed -i "s/^\.version .*/.version $isa/" "$tmp/$family.ptx"
    fi
    if ! "$ptxas" -arch=sm_75 "$tmp/$family.ptx" -o "$tmp/$family.cubin"; then
        echo "build-ptx.sh: ptxas rejects $family.ptx with .version $isa; set PTX_ISA=keep or a newer ISA" >&2
        exit 1
    fi
    mv "$tmp/$family.ptx" "$ptx"
    built=$((built + 1))
done

manifest="$out/kernels.properties"
{
    echo "# written by engine/src/main/cuda/build-ptx.sh: what the PTX beside this file is"
    echo "nvcc=$version"
    echo "arch=$arch"
    echo "isa=$(sed -n 's/^\.version //p' "$out/${families[0]}.ptx" | head -1)"
    echo "families=${families[*]}"
} > "$tmp/kernels.properties"
# Rewrite the manifest only when it changes, so that an up-to-date build touches nothing.
if ! cmp -s "$tmp/kernels.properties" "$manifest"; then mv "$tmp/kernels.properties" "$manifest"; fi
echo "build-ptx.sh: $built of ${#families[@]} kernel files compiled by nvcc $version for $arch into $out" >&2
