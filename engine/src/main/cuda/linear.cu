// linear.cu: a fully connected layer (oneDNN's inner product) as three tiled GEMMs (gemm.cuh):
// the CUDA twin of the opencl backend's linear.cl.
//
//   src (N, IC)   weights (OC, IC)   bias (OC)   dst (N, OC)
//   forward          dst(n, o)     = bias(o) + sum_i src(n, i) weights(o, i)   M = N   NN = OC  K = IC
//   backward data    diffSrc(n, i) = sum_o diffDst(n, o) weights(o, i)         M = N   NN = IC  K = OC
//   backward weights diffW(o, i)   = sum_n diffDst(n, o) src(n, i)             M = OC  NN = IC  K = N
// diffBias is bias_backward (gemm.cuh) with P = 1.
#include "gemm.cuh"

extern "C" __global__ void __launch_bounds__(WG * WG)
linear_forward(float *dst, const float *src, const float *weights, const float *bias,   // bias: NULL when absent
               const int N, const int IC, const int OC) {
    gemm_tile(N, OC, IC,
              [=](int m, int k) { return src[(long long) m * IC + k]; },
              [=](int k, int j) { return weights[(long long) j * IC + k]; },
              [=](int m, int j, float v) { dst[(long long) m * OC + j] = v + (bias ? bias[j] : 0.0f); });
}

extern "C" __global__ void __launch_bounds__(WG * WG)
linear_backward_data(float *diffSrc, const float *diffDst, const float *weights, const int N, const int IC, const int OC) {
    gemm_tile(N, IC, OC,
              [=](int m, int k) { return diffDst[(long long) m * OC + k]; },
              [=](int k, int j) { return weights[(long long) k * IC + j]; },
              [=](int m, int j, float v) { diffSrc[(long long) m * IC + j] = v; });
}

extern "C" __global__ void __launch_bounds__(WG * WG)
linear_backward_weights(float *diffWeights, const float *diffDst, const float *src, const int N, const int IC, const int OC) {
    gemm_tile(OC, IC, N,
              [=](int m, int k) { return diffDst[(long long) k * OC + m]; },
              [=](int k, int j) { return src[(long long) k * IC + j]; },
              [=](int m, int j, float v) { diffWeights[(long long) m * IC + j] = v; });
}

extern "C" __global__ void __launch_bounds__(GROUP)
bias_backward(float *diffBias, const float *diffDst, const int N, const int C, const int P) {
    bias_backward_body(diffBias, diffDst, N, C, P);
}
