// linear.cl: a fully connected layer (oneDNN's inner product) as three tiled GEMMs (gemm.clh).
//
//   src (N, IC)   weights (OC, IC)   bias (OC)   dst (N, OC)
//   forward          dst(n, o)     = bias(o) + sum_i src(n, i) weights(o, i)   M = N   NN = OC  K = IC
//   backward data    diffSrc(n, i) = sum_o diffDst(n, o) weights(o, i)         M = N   NN = IC  K = OC
//   backward weights diffW(o, i)   = sum_n diffDst(n, o) src(n, i)             M = OC  NN = IC  K = N
// diffBias is bias_backward (gemm.clh) with P = 1.

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void linear_forward(__global float *dst, const long dstOff,
                    __global const float *src, const long srcOff,
                    __global const float *weights, const long weightsOff,
                    __global const float *bias, const long biasOff,
                    const int N, const int IC, const int OC) {
    dst += dstOff;
    src += srcOff;
    weights += weightsOff;
    __global const float *b = bias ? bias + biasOff : 0;
#define LOAD_A(m, k) src[(long) (m) * IC + (k)]
#define LOAD_B(k, j) weights[(long) (j) * IC + (k)]
#define STORE(m, j, v) { dst[(long) (m) * OC + (j)] = (v) + (b ? b[j] : 0.0f); }
    GEMM_BODY(N, OC, IC, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void linear_backward_data(__global float *diffSrc, const long diffSrcOff,
                          __global const float *diffDst, const long diffDstOff,
                          __global const float *weights, const long weightsOff,
                          const int N, const int IC, const int OC) {
    diffSrc += diffSrcOff;
    diffDst += diffDstOff;
    weights += weightsOff;
#define LOAD_A(m, k) diffDst[(long) (m) * OC + (k)]
#define LOAD_B(k, j) weights[(long) (k) * IC + (j)]
#define STORE(m, j, v) { diffSrc[(long) (m) * IC + (j)] = (v); }
    GEMM_BODY(N, IC, OC, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void linear_backward_weights(__global float *diffWeights, const long diffWeightsOff,
                             __global const float *diffDst, const long diffDstOff,
                             __global const float *src, const long srcOff,
                             const int N, const int IC, const int OC) {
    diffWeights += diffWeightsOff;
    diffDst += diffDstOff;
    src += srcOff;
#define LOAD_A(m, k) diffDst[(long) (k) * OC + (m)]
#define LOAD_B(k, j) src[(long) (k) * IC + (j)]
#define STORE(m, j, v) { diffWeights[(long) (m) * IC + (j)] = (v); }
    GEMM_BODY(OC, IC, N, LOAD_A, LOAD_B, STORE)
#undef LOAD_A
#undef LOAD_B
#undef STORE
}
