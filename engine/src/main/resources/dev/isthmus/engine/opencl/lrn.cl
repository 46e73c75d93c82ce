// lrn.cl: local response normalisation across channels (LrnSpec; oneDNN's lrn_across_channels,
// PyTorch's LocalResponseNorm), one work-item per element, no workspace: the backward
// recomputes the scales it needs.
//
//   src, dst (N, C, H W)
//   s(c) = k + alpha / size sum_{c' in [c - (size-1)/2, c + size/2] clipped} src(c')^2
//   dst(c) = src(c) s(c)^-beta
//   diffSrc(j) = diffDst(j) s(j)^-beta
//              - 2 alpha beta / size src(j) sum_{i : j in window(i)} diffDst(i) src(i) s(i)^(-beta-1)
//   j in window(i) iff i in [j - size/2, j + (size-1)/2]

float lrn_scale(__global const float *plane, const long hw, const int c, const int C,
                const int size, const float alphaOverSize, const float k) {
    const int lo = max(c - (size - 1) / 2, 0), hi = min(c + size / 2, C - 1);
    float sum = 0.0f;
    for (int i = lo; i <= hi; i++) {
        const float v = plane[i * hw];
        sum += v * v;
    }
    return k + alphaOverSize * sum;
}

__kernel void lrn_forward(__global float *dst, const long dstOff,
                          __global const float *src, const long srcOff,
                          const int N, const int C, const long HW,
                          const int size, const float alpha, const float beta, const float k) {
    const long e = get_global_id(0);
    if (e >= (long) N * C * HW) return;
    const long p = e % HW, n = e / (C * HW);
    const int c = (e / HW) % C;
    __global const float *plane = src + srcOff + n * C * HW + p;   // element (n, 0, p); channels HW apart
    const float s = lrn_scale(plane, HW, c, C, size, alpha / size, k);
    dst[dstOff + e] = src[srcOff + e] * pow(s, -beta);
}

__kernel void lrn_backward(__global float *diffSrc, const long diffSrcOff,
                           __global const float *diffDst, const long diffDstOff,
                           __global const float *src, const long srcOff,
                           const int N, const int C, const long HW,
                           const int size, const float alpha, const float beta, const float k) {
    const long e = get_global_id(0);
    if (e >= (long) N * C * HW) return;
    const long p = e % HW, n = e / (C * HW);
    const int c = (e / HW) % C;
    const long base = n * C * HW + p;
    __global const float *x = src + srcOff + base;
    __global const float *dy = diffDst + diffDstOff + base;
    const float aos = alpha / size;
    const int lo = max(c - size / 2, 0), hi = min(c + (size - 1) / 2, C - 1);
    float acc = 0.0f;
    for (int i = lo; i <= hi; i++) {
        const float si = lrn_scale(x, HW, i, C, size, aos, k);
        acc += dy[i * HW] * x[i * HW] * pow(si, -beta - 1.0f);
    }
    const float sc = lrn_scale(x, HW, c, C, size, aos, k);
    diffSrc[diffSrcOff + e] = dy[c * HW] * pow(sc, -beta) - 2.0f * aos * beta * x[c * HW] * acc;
}
