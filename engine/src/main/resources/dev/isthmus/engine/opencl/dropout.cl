// dropout.cl: inverted dropout with the counter-based mask of DropoutPlan.keep(seed, i, p),
// ported bit for bit: SplitMix64's finaliser over (seed, i) in 64-bit unsigned arithmetic
// (Java's long multiplication wraps the same way; >>> is >> on ulong), the top 32 bits compared
// with threshold = (long) ((1 - p) 2^32), computed on the host. Mask: one byte per element.

__kernel void dropout_forward(__global float *dst, const long dstOff,
                              __global uchar *mask, const long maskOff,
                              __global const float *src, const long srcOff,
                              const long n, const ulong seed, const ulong threshold, const float scale) {
    const long i = get_global_id(0);
    if (i >= n) return;
    ulong z = seed * 0x9E3779B97F4A7C15UL + ((ulong) i + 1UL) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    z ^= z >> 31;
    const uchar keep = (z >> 32) < threshold ? 1 : 0;
    mask[maskOff + i] = keep;
    dst[dstOff + i] = keep ? src[srcOff + i] * scale : 0.0f;
}

__kernel void dropout_backward(__global float *diffSrc, const long diffSrcOff,
                               __global const float *diffDst, const long diffDstOff,
                               __global const uchar *mask, const long maskOff,
                               const long n, const float scale) {
    const long i = get_global_id(0);
    if (i >= n) return;
    diffSrc[diffSrcOff + i] = mask[maskOff + i] ? diffDst[diffDstOff + i] * scale : 0.0f;
}
