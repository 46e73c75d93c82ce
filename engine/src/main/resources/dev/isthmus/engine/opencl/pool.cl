// pool.cl: 2-D max and average pooling, forward and backward, one work-item per output value
// (forward) or per input value (backward: a gather over the windows that cover it, so nothing
// accumulates across items). Semantics: oneDNN's pooling as ReferencePool2dPlan:
//
//   src (P, IH, IW)  dst (P, OH, OW)     P = N C planes
//   window of (oh, ow): rows oh SH - PT .. + KH - 1, columns ow SW - PL .. + KW - 1, clipped to the input
//   max: first maximum in row-major order wins; workspace int32 ih IW + iw of it, per dst value
//   avg: divisor KH KW (include padding) or the clipped window's size (exclude padding)

typedef struct {
    int planes, ih, iw, oh, ow;
    int kh, kw, sh, sw, pt, pl;
    int excludePadding;   // average pooling only
} PoolGeometry;

__kernel void pool_max_forward(__global float *dst, const long dstOff,
                               __global int *workspace, const long workspaceOff,   // NULL for inference
                               __global const float *src, const long srcOff,
                               const PoolGeometry g) {
    const long out = get_global_id(0);
    if (out >= (long) g.planes * g.oh * g.ow) return;
    const int x = out % g.ow, y = (out / g.ow) % g.oh;
    const long plane = out / ((long) g.oh * g.ow);
    __global const float *s = src + srcOff + plane * g.ih * g.iw;
    const int y0 = y * g.sh - g.pt, x0 = x * g.sw - g.pl;
    float best = 0.0f;
    int bestIndex = -1;
    for (int sy = max(y0, 0); sy < min(y0 + g.kh, g.ih); sy++)
        for (int sx = max(x0, 0); sx < min(x0 + g.kw, g.iw); sx++) {
            const float v = s[sy * g.iw + sx];
            if (bestIndex < 0 || v > best) {   // strictly greater: the first maximum wins
                best = v;
                bestIndex = sy * g.iw + sx;
            }
        }
    dst[dstOff + out] = best;
    if (workspace) workspace[workspaceOff + out] = bestIndex;
}

float pool_divisor(const PoolGeometry g, const int y0, const int x0) {
    if (!g.excludePadding) return (float) (g.kh * g.kw);
    const int rows = min(y0 + g.kh, g.ih) - max(y0, 0), cols = min(x0 + g.kw, g.iw) - max(x0, 0);
    return (float) (rows * cols);
}

__kernel void pool_avg_forward(__global float *dst, const long dstOff,
                               __global const float *src, const long srcOff,
                               const PoolGeometry g) {
    const long out = get_global_id(0);
    if (out >= (long) g.planes * g.oh * g.ow) return;
    const int x = out % g.ow, y = (out / g.ow) % g.oh;
    const long plane = out / ((long) g.oh * g.ow);
    __global const float *s = src + srcOff + plane * g.ih * g.iw;
    const int y0 = y * g.sh - g.pt, x0 = x * g.sw - g.pl;
    float sum = 0.0f;
    for (int sy = max(y0, 0); sy < min(y0 + g.kh, g.ih); sy++)
        for (int sx = max(x0, 0); sx < min(x0 + g.kw, g.iw); sx++) sum += s[sy * g.iw + sx];
    dst[dstOff + out] = sum / pool_divisor(g, y0, x0);
}

// The output index o with o S == t, or -1 when there is none in [0, size).
int pool_out_index(const int t, const int stride, const int size) {
    if (t < 0 || t % stride != 0) return -1;
    const int o = t / stride;
    return o < size ? o : -1;
}

__kernel void pool_max_backward(__global float *diffSrc, const long diffSrcOff,
                                __global const float *diffDst, const long diffDstOff,
                                __global const int *workspace, const long workspaceOff,
                                const PoolGeometry g) {
    const long in = get_global_id(0);
    if (in >= (long) g.planes * g.ih * g.iw) return;
    const int sx = in % g.iw, sy = (in / g.iw) % g.ih;
    const long plane = in / ((long) g.ih * g.iw);
    const long outPlane = plane * g.oh * g.ow;
    const int here = sy * g.iw + sx;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kh; ky++) {
        const int y = pool_out_index(sy + g.pt - ky, g.sh, g.oh);
        if (y < 0) continue;
        for (int kx = 0; kx < g.kw; kx++) {
            const int x = pool_out_index(sx + g.pl - kx, g.sw, g.ow);
            if (x < 0) continue;
            const long out = outPlane + y * g.ow + x;
            if (workspace[workspaceOff + out] == here) acc += diffDst[diffDstOff + out];
        }
    }
    diffSrc[diffSrcOff + in] = acc;
}

__kernel void pool_avg_backward(__global float *diffSrc, const long diffSrcOff,
                                __global const float *diffDst, const long diffDstOff,
                                const PoolGeometry g) {
    const long in = get_global_id(0);
    if (in >= (long) g.planes * g.ih * g.iw) return;
    const int sx = in % g.iw, sy = (in / g.iw) % g.ih;
    const long plane = in / ((long) g.ih * g.iw);
    const long outPlane = plane * g.oh * g.ow;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kh; ky++) {
        const int y = pool_out_index(sy + g.pt - ky, g.sh, g.oh);
        if (y < 0) continue;
        for (int kx = 0; kx < g.kw; kx++) {
            const int x = pool_out_index(sx + g.pl - kx, g.sw, g.ow);
            if (x < 0) continue;
            acc += diffDst[diffDstOff + outPlane + y * g.ow + x] / pool_divisor(g, y * g.sh - g.pt, x * g.sw - g.pl);
        }
    }
    diffSrc[diffSrcOff + in] = acc;
}
