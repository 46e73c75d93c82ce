// lrn.cu: local response normalisation across channels (LrnSpec; oneDNN's lrn_across_channels,
// PyTorch's LocalResponseNorm), one thread per element, no workspace: the backward recomputes
// the scales it needs. The CUDA twin of the opencl backend's lrn.cl.
//
//   src, dst (N, C, H W)
//   s(c) = k + alpha / size sum_{c' in [c - (size-1)/2, c + size/2] clipped} src(c')^2
//   dst(c) = src(c) s(c)^-beta
//   diffSrc(j) = diffDst(j) s(j)^-beta
//              - 2 alpha beta / size src(j) sum_{i : j in window(i)} diffDst(i) src(i) s(i)^(-beta-1)
//   j in window(i) iff i in [j - size/2, j + (size-1)/2]

__device__ __forceinline__ float lrn_scale(const float *plane, const long long hw, const int c, const int C,
                                           const int size, const float alphaOverSize, const float k) {
    const int lo = max(c - (size - 1) / 2, 0), hi = min(c + size / 2, C - 1);
    float sum = 0.0f;
    for (int i = lo; i <= hi; i++) {
        const float v = plane[i * hw];
        sum += v * v;
    }
    return k + alphaOverSize * sum;
}

extern "C" __global__ void lrn_forward(float *dst, const float *src, const int N, const int C, const long long HW,
                                       const int size, const float alpha, const float beta, const float k) {
    const long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long) N * C * HW) return;
    const long long p = e % HW, n = e / (C * HW);
    const int c = (e / HW) % C;
    const float *plane = src + n * C * HW + p;   // element (n, 0, p); channels HW apart
    const float s = lrn_scale(plane, HW, c, C, size, alpha / size, k);
    dst[e] = src[e] * powf(s, -beta);
}

extern "C" __global__ void lrn_backward(float *diffSrc, const float *diffDst, const float *src,
                                        const int N, const int C, const long long HW,
                                        const int size, const float alpha, const float beta, const float k) {
    const long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long) N * C * HW) return;
    const long long p = e % HW, n = e / (C * HW);
    const int c = (e / HW) % C;
    const long long base = n * C * HW + p;
    const float *x = src + base;
    const float *dy = diffDst + base;
    const float aos = alpha / size;
    const int lo = max(c - size / 2, 0), hi = min(c + (size - 1) / 2, C - 1);
    float acc = 0.0f;
    for (int i = lo; i <= hi; i++) {
        const float si = lrn_scale(x, HW, i, C, size, aos, k);
        acc += dy[i * HW] * x[i * HW] * powf(si, -beta - 1.0f);
    }
    const float sc = lrn_scale(x, HW, c, C, size, aos, k);
    diffSrc[e] = dy[c * HW] * powf(sc, -beta) - 2.0f * aos * beta * x[c * HW] * acc;
}
