// conv.cl: 2-D convolution forward, backward-data and backward-weights as implicit GEMMs
// (gemm.clh), one GEMM per group (get_group_id(2) = g). Semantics: oneDNN's convolution,
// https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html, as ReferenceConv2dPlan.
//
//   src      (N, IC, IH, IW)      weights  (OC, ICg, KH, KW)     ICg = IC / G, OCg = OC / G
//   dst      (N, OC, OH, OW)      bias     (OC)
//   ih = oh SH - PT + kh DH,  iw = ow SW - PL + kw DW   (DH, DW: the dilation + 1)
//
//   forward          M = OCg  NN = N OH OW   K = ICg KH KW   A = weights, B = im2col(src)
//   backward data    M = ICg  NN = N IH IW   K = OCg KH KW   A = weights^T, B = col2im gather of diffDst
//   backward weights M = OCg  NN = ICg KH KW K = N OH OW     A = diffDst, B = im2col(src)^T
//
// Every output value is one sum: nothing accumulates across work-groups, so no atomics.

typedef struct {
    int n, ic, ih, iw;                  // src (N, IC, IH, IW)
    int oc, oh, ow;                     // dst (N, OC, OH, OW)
    int kh, kw, sh, sw, pt, pl, dh, dw; // window; dh, dw = dilation + 1
    int groups;
} ConvGeometry;

// src(n, c0 + c, ih, iw) for im2col row k = (c, ky, kx) and column j = (n, oh, ow); 0 in the padding.
float conv_im2col(__global const float *src, const ConvGeometry g, const int c0, const int k, const int j) {
    const int khw = g.kh * g.kw, ohw = g.oh * g.ow;
    const int c = k / khw, r = k - c * khw, ky = r / g.kw, kx = r - ky * g.kw;
    const int n = j / ohw, p = j - n * ohw, y = p / g.ow, x = p - y * g.ow;
    const int sy = y * g.sh - g.pt + ky * g.dh, sx = x * g.sw - g.pl + kx * g.dw;
    if (sy < 0 || sy >= g.ih || sx < 0 || sx >= g.iw) return 0.0f;
    return src[(((long) n * g.ic + c0 + c) * g.ih + sy) * g.iw + sx];
}

// diffDst(n, o0 + og, y, x) for row k = (og, ky, kx) and diffSrc column j = (n, sy, sx), where
// y SH = sy + PT - ky DH (and likewise x); 0 when no output position maps there.
float conv_col2im(__global const float *diffDst, const ConvGeometry g, const int o0, const int k, const int j) {
    const int khw = g.kh * g.kw, ihw = g.ih * g.iw;
    const int og = k / khw, r = k - og * khw, ky = r / g.kw, kx = r - ky * g.kw;
    const int n = j / ihw, q = j - n * ihw, sy = q / g.iw, sx = q - sy * g.iw;
    int y = sy + g.pt - ky * g.dh, x = sx + g.pl - kx * g.dw;
    if (y < 0 || x < 0 || y % g.sh != 0 || x % g.sw != 0) return 0.0f;
    y /= g.sh;
    x /= g.sw;
    if (y >= g.oh || x >= g.ow) return 0.0f;
    return diffDst[(((long) n * g.oc + o0 + og) * g.oh + y) * g.ow + x];
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void conv_forward(__global float *dst, const long dstOff,
                  __global const float *src, const long srcOff,
                  __global const float *weights, const long weightsOff,
                  __global const float *bias, const long biasOff,
                  const ConvGeometry geo) {
    dst += dstOff;
    src += srcOff;
    const int grp = get_group_id(2);
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int ohw = geo.oh * geo.ow, K = icg * geo.kh * geo.kw, NN = geo.n * ohw;
    __global const float *w = weights + weightsOff + (long) grp * ocg * K;   // (OCg, K) of this group
    __global const float *b = bias ? bias + biasOff + grp * ocg : 0;
#define LOAD_A(m, k) w[(long) (m) * K + (k)]
#define LOAD_B(k, j) conv_im2col(src, geo, grp * icg, (k), (j))
#define STORE(m, j, v) { const int n = (j) / ohw, p = (j) - n * ohw; \
        dst[((long) n * geo.oc + grp * ocg + (m)) * ohw + p] = (v) + (b ? b[m] : 0.0f); }
    GEMM_BODY(ocg, NN, K, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void conv_backward_data(__global float *diffSrc, const long diffSrcOff,
                        __global const float *diffDst, const long diffDstOff,
                        __global const float *weights, const long weightsOff,
                        const ConvGeometry geo) {
    diffSrc += diffSrcOff;
    diffDst += diffDstOff;
    const int grp = get_group_id(2);
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int khw = geo.kh * geo.kw, ihw = geo.ih * geo.iw;
    const int K = ocg * khw, NN = geo.n * ihw;
    __global const float *w = weights + weightsOff + (long) grp * ocg * icg * khw;   // (OCg, ICg, KH, KW)
    // A(c, (og, ky, kx)) = weights(g OCg + og, c, ky, kx)
#define LOAD_A(m, k) w[((long) ((k) / khw) * icg + (m)) * khw + (k) % khw]
#define LOAD_B(k, j) conv_col2im(diffDst, geo, grp * ocg, (k), (j))
#define STORE(m, j, v) { const int n = (j) / ihw, q = (j) - n * ihw; \
        diffSrc[((long) n * geo.ic + grp * icg + (m)) * ihw + q] = (v); }
    GEMM_BODY(icg, NN, K, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void conv_backward_weights(__global float *diffWeights, const long diffWeightsOff,
                           __global const float *diffDst, const long diffDstOff,
                           __global const float *src, const long srcOff,
                           const ConvGeometry geo) {
    diffDst += diffDstOff;
    src += srcOff;
    const int grp = get_group_id(2);
    const int icg = geo.ic / geo.groups, ocg = geo.oc / geo.groups;
    const int ohw = geo.oh * geo.ow, NN = icg * geo.kh * geo.kw, K = geo.n * ohw;
    __global float *dw = diffWeights + diffWeightsOff + (long) grp * ocg * NN;   // (OCg, ICg KH KW) of this group
    // A(o, (n, y, x)) = diffDst(n, g OCg + o, y, x); B((n, y, x), (c, ky, kx)) = im2col(src)((c, ky, kx), (n, y, x))
#define LOAD_A(m, k) diffDst[((long) ((k) / ohw) * geo.oc + grp * ocg + (m)) * ohw + (k) % ohw]
#define LOAD_B(k, j) conv_im2col(src, geo, grp * icg, (j), (k))
#define STORE(m, j, v) { dw[(long) (m) * NN + (j)] = (v); }
    GEMM_BODY(ocg, NN, K, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}
