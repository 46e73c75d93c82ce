// conv.cu: 2-D convolution forward, backward-data and backward-weights as implicit GEMMs
// (gemm.cuh), one GEMM per group (blockIdx.z = g): the CUDA twin of the opencl backend's conv.cl.
// Semantics: oneDNN's convolution, https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html,
// as ReferenceConv2dPlan.
//
//   src      (N, IC, IH, IW)      weights  (OC, ICg, KH, KW)     ICg = IC / G, OCg = OC / G
//   dst      (N, OC, OH, OW)      bias     (OC)
//   ih = oh SH - PT + kh DH,  iw = ow SW - PL + kw DW   (DH, DW: the dilation + 1)
//
//   forward          M = OCg  NN = N OH OW   K = ICg KH KW   A = weights, B = im2col(src)
//   backward data    M = ICg  NN = N IH IW   K = OCg KH KW   A = weights^T, B = col2im gather of diffDst
//   backward weights M = OCg  NN = ICg KH KW K = N OH OW     A = diffDst, B = im2col(src)^T
//
// Every output value is one sum: nothing accumulates across blocks, so no atomics. Pointers
// arrive already offset to the tensor's first element (a view is base pointer + byte offset).
#include "gemm.cuh"

struct ConvGeometry {
    int n, ic, ih, iw;                  // src (N, IC, IH, IW)
    int oc, oh, ow;                     // dst (N, OC, OH, OW)
    int kh, kw, sh, sw, pt, pl, dh, dw; // window; dh, dw = dilation + 1
    int groups;
};

// src(n, c0 + c, ih, iw) for im2col row k = (c, ky, kx) and column j = (n, oh, ow); 0 in the padding.
__device__ __forceinline__ float conv_im2col(const float *src, const ConvGeometry &g, const int c0, const int k, const int j) {
    const int khw = g.kh * g.kw, ohw = g.oh * g.ow;
    const int c = k / khw, r = k - c * khw, ky = r / g.kw, kx = r - ky * g.kw;
    const int n = j / ohw, p = j - n * ohw, y = p / g.ow, x = p - y * g.ow;
    const int sy = y * g.sh - g.pt + ky * g.dh, sx = x * g.sw - g.pl + kx * g.dw;
    if (sy < 0 || sy >= g.ih || sx < 0 || sx >= g.iw) return 0.0f;
    return src[(((long long) n * g.ic + c0 + c) * g.ih + sy) * g.iw + sx];
}

// diffDst(n, o0 + og, y, x) for row k = (og, ky, kx) and diffSrc column j = (n, sy, sx), where
// y SH = sy + PT - ky DH (and likewise x); 0 when no output position maps there.
__device__ __forceinline__ float conv_col2im(const float *diffDst, const ConvGeometry &g, const int o0, const int k, const int j) {
    const int khw = g.kh * g.kw, ihw = g.ih * g.iw;
    const int og = k / khw, r = k - og * khw, ky = r / g.kw, kx = r - ky * g.kw;
    const int n = j / ihw, q = j - n * ihw, sy = q / g.iw, sx = q - sy * g.iw;
    int y = sy + g.pt - ky * g.dh, x = sx + g.pl - kx * g.dw;
    if (y < 0 || x < 0 || y % g.sh != 0 || x % g.sw != 0) return 0.0f;
    y /= g.sh;
    x /= g.sw;
    if (y >= g.oh || x >= g.ow) return 0.0f;
    return diffDst[(((long long) n * g.oc + o0 + og) * g.oh + y) * g.ow + x];
}

extern "C" __global__ void __launch_bounds__(WG * WG)
conv_forward(float *dst, const float *src, const float *weights, const float *bias,   // bias: NULL when absent
             const ConvGeometry geo) {
    const int grp = blockIdx.z;
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int ohw = geo.oh * geo.ow, K = icg * geo.kh * geo.kw, NN = geo.n * ohw;
    const float *w = weights + (long long) grp * ocg * K;   // (OCg, K) of this group
    const float *b = bias ? bias + grp * ocg : nullptr;
    gemm_tile(ocg, NN, K,
              [=](int m, int k) { return w[(long long) m * K + k]; },
              [=](int k, int j) { return conv_im2col(src, geo, grp * icg, k, j); },
              [=](int m, int j, float v) {
                  const int n = j / ohw, p = j - n * ohw;
                  dst[((long long) n * geo.oc + grp * ocg + m) * ohw + p] = v + (b ? b[m] : 0.0f);
              });
}

extern "C" __global__ void __launch_bounds__(WG * WG)
conv_backward_data(float *diffSrc, const float *diffDst, const float *weights, const ConvGeometry geo) {
    const int grp = blockIdx.z;
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int khw = geo.kh * geo.kw, ihw = geo.ih * geo.iw;
    const int K = ocg * khw, NN = geo.n * ihw;
    const float *w = weights + (long long) grp * ocg * icg * khw;   // (OCg, ICg, KH, KW)
    // A(c, (og, ky, kx)) = weights(g OCg + og, c, ky, kx)
    gemm_tile(icg, NN, K,
              [=](int m, int k) { return w[((long long) (k / khw) * icg + m) * khw + k % khw]; },
              [=](int k, int j) { return conv_col2im(diffDst, geo, grp * ocg, k, j); },
              [=](int m, int j, float v) {
                  const int n = j / ihw, q = j - n * ihw;
                  diffSrc[((long long) n * geo.ic + grp * icg + m) * ihw + q] = v;
              });
}

extern "C" __global__ void __launch_bounds__(WG * WG)
conv_backward_weights(float *diffWeights, const float *diffDst, const float *src, const ConvGeometry geo) {
    const int grp = blockIdx.z;
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int ohw = geo.oh * geo.ow, NN = icg * geo.kh * geo.kw, K = geo.n * ohw;
    float *dw = diffWeights + (long long) grp * ocg * NN;   // (OCg, ICg KH KW) of this group
    // A(o, (n, y, x)) = diffDst(n, g OCg + o, y, x); B((n, y, x), (c, ky, kx)) = im2col(src)((c, ky, kx), (n, y, x))
    gemm_tile(ocg, NN, K,
              [=](int m, int k) { return diffDst[((long long) (k / ohw) * geo.oc + grp * ocg + m) * ohw + k % ohw]; },
              [=](int k, int j) { return conv_im2col(src, geo, grp * icg, j, k); },
              [=](int m, int j, float v) { dw[(long long) m * NN + j] = v; });
}

// diffBias(c) = sum over n, p of diffDst(n, c, p), P = OH OW; one block of GROUP per channel.
extern "C" __global__ void __launch_bounds__(GROUP)
bias_backward(float *diffBias, const float *diffDst, const int N, const int C, const int P) {
    bias_backward_body(diffBias, diffDst, N, C, P);
}
