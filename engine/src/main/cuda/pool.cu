// pool.cu: 2-D max and average pooling, forward and backward, one thread per output value
// (forward) or per input value (backward: a gather over the windows that cover it, so nothing
// accumulates across threads): the CUDA twin of the opencl backend's pool.cl. Semantics:
// oneDNN's pooling as ReferencePool2dPlan:
//
//   src (P, IH, IW)  dst (P, OH, OW)     P = N C planes
//   window of (oh, ow): rows oh SH - PT .. + KH - 1, columns ow SW - PL .. + KW - 1, clipped to the input
//   max: first maximum in row-major order wins; workspace int32 ih IW + iw of it, per dst value
//   avg: divisor KH KW (include padding) or the clipped window's size (exclude padding)

struct PoolGeometry {
    int planes, ih, iw, oh, ow;
    int kh, kw, sh, sw, pt, pl;
    int excludePadding;   // average pooling only
};

__device__ __forceinline__ long long thread_index() { return (long long) blockIdx.x * blockDim.x + threadIdx.x; }

extern "C" __global__ void pool_max_forward(float *dst, int *workspace,   // workspace: NULL for inference
                                            const float *src, const PoolGeometry g) {
    const long long out = thread_index();
    if (out >= (long long) g.planes * g.oh * g.ow) return;
    const int x = out % g.ow, y = (out / g.ow) % g.oh;
    const long long plane = out / ((long long) g.oh * g.ow);
    const float *s = src + plane * g.ih * g.iw;
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
    dst[out] = best;
    if (workspace) workspace[out] = bestIndex;
}

__device__ __forceinline__ float pool_divisor(const PoolGeometry &g, const int y0, const int x0) {
    if (!g.excludePadding) return (float) (g.kh * g.kw);
    const int rows = min(y0 + g.kh, g.ih) - max(y0, 0), cols = min(x0 + g.kw, g.iw) - max(x0, 0);
    return (float) (rows * cols);
}

extern "C" __global__ void pool_avg_forward(float *dst, const float *src, const PoolGeometry g) {
    const long long out = thread_index();
    if (out >= (long long) g.planes * g.oh * g.ow) return;
    const int x = out % g.ow, y = (out / g.ow) % g.oh;
    const long long plane = out / ((long long) g.oh * g.ow);
    const float *s = src + plane * g.ih * g.iw;
    const int y0 = y * g.sh - g.pt, x0 = x * g.sw - g.pl;
    float sum = 0.0f;
    for (int sy = max(y0, 0); sy < min(y0 + g.kh, g.ih); sy++)
        for (int sx = max(x0, 0); sx < min(x0 + g.kw, g.iw); sx++) sum += s[sy * g.iw + sx];
    dst[out] = sum / pool_divisor(g, y0, x0);
}

// The output index o with o S == t, or -1 when there is none in [0, size).
__device__ __forceinline__ int pool_out_index(const int t, const int stride, const int size) {
    if (t < 0 || t % stride != 0) return -1;
    const int o = t / stride;
    return o < size ? o : -1;
}

extern "C" __global__ void pool_max_backward(float *diffSrc, const float *diffDst, const int *workspace, const PoolGeometry g) {
    const long long in = thread_index();
    if (in >= (long long) g.planes * g.ih * g.iw) return;
    const int sx = in % g.iw, sy = (in / g.iw) % g.ih;
    const long long plane = in / ((long long) g.ih * g.iw);
    const long long outPlane = plane * g.oh * g.ow;
    const int here = sy * g.iw + sx;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kh; ky++) {
        const int y = pool_out_index(sy + g.pt - ky, g.sh, g.oh);
        if (y < 0) continue;
        for (int kx = 0; kx < g.kw; kx++) {
            const int x = pool_out_index(sx + g.pl - kx, g.sw, g.ow);
            if (x < 0) continue;
            const long long out = outPlane + y * g.ow + x;
            if (workspace[out] == here) acc += diffDst[out];
        }
    }
    diffSrc[in] = acc;
}

extern "C" __global__ void pool_avg_backward(float *diffSrc, const float *diffDst, const PoolGeometry g) {
    const long long in = thread_index();
    if (in >= (long long) g.planes * g.ih * g.iw) return;
    const int sx = in % g.iw, sy = (in / g.iw) % g.ih;
    const long long plane = in / ((long long) g.ih * g.iw);
    const long long outPlane = plane * g.oh * g.ow;
    float acc = 0.0f;
    for (int ky = 0; ky < g.kh; ky++) {
        const int y = pool_out_index(sy + g.pt - ky, g.sh, g.oh);
        if (y < 0) continue;
        for (int kx = 0; kx < g.kw; kx++) {
            const int x = pool_out_index(sx + g.pl - kx, g.sw, g.ow);
            if (x < 0) continue;
            acc += diffDst[outPlane + y * g.ow + x] / pool_divisor(g, y * g.sh - g.pt, x * g.sw - g.pl);
        }
    }
    diffSrc[in] = acc;
}
