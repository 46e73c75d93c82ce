// gemm.cuh: the tiled GEMM skeleton shared by conv.cu and linear.cu: the CUDA twin of the
// opencl backend's gemm.clh (same tiles, same loops, same order of the sums).
//
//   C(m, j) = sum_k A(m, k) B(k, j)    m < M, j < NN, k < K
//
// A block of WG x WG threads computes a TM x TN tile of C; each thread an RT x RT block of it
// (rows ty + WG r, columns tx + WG c, so neighbouring threads touch neighbouring columns). K is
// walked in slices of TK: the block stages A's TM x TK and B's TK x TN slices in shared memory,
// then every thread multiplies out of shared memory into registers.
//
// A and B are never materialised: the kernel passes load_a(m, k) and load_b(k, j) as lambdas over
// its own buffers (implicit im2col for convolutions), and store(m, j, v) to write one result.
// Loads are only evaluated in bounds; out-of-range tile entries are zero.
// Launch: grid (ceil(NN / TN), ceil(M / TM), any), block (WG, WG, 1).
#pragma once

constexpr int TM = 32, TN = 32, TK = 16;
constexpr int WG = 8;    // threads per block side
constexpr int RT = 4;    // TM / WG and TN / WG
constexpr int GROUP = 64;   // threads per block of the reductions (bias_backward, softmax)

template <class LoadA, class LoadB, class Store>
__device__ __forceinline__ void gemm_tile(const int M, const int NN, const int K,
                                          const LoadA load_a, const LoadB load_b, const Store store) {
    __shared__ float As[TK][TM + 1];   // + 1: the staging writes walk k, which would hit one bank
    __shared__ float Bs[TK][TN];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int lid = ty * WG + tx;
    const int j0 = blockIdx.x * TN, m0 = blockIdx.y * TM;
    float acc[RT][RT];
#pragma unroll
    for (int r = 0; r < RT; r++)
#pragma unroll
        for (int c = 0; c < RT; c++) acc[r][c] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int e = lid; e < TK * TM; e += WG * WG) {
            const int kk = e % TK, mm = e / TK;
            const int m = m0 + mm, k = k0 + kk;
            As[kk][mm] = (m < M && k < K) ? load_a(m, k) : 0.0f;
        }
        for (int e = lid; e < TK * TN; e += WG * WG) {
            const int jj = e % TN, kk = e / TN;
            const int j = j0 + jj, k = k0 + kk;
            Bs[kk][jj] = (j < NN && k < K) ? load_b(k, j) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TK; kk++) {
            float a[RT], b[RT];
#pragma unroll
            for (int r = 0; r < RT; r++) a[r] = As[kk][ty + WG * r];
#pragma unroll
            for (int c = 0; c < RT; c++) b[c] = Bs[kk][tx + WG * c];
#pragma unroll
            for (int r = 0; r < RT; r++)
#pragma unroll
                for (int c = 0; c < RT; c++) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int r = 0; r < RT; r++)
#pragma unroll
        for (int c = 0; c < RT; c++) {
            const int m = m0 + ty + WG * r, j = j0 + tx + WG * c;
            if (m < M && j < NN) store(m, j, acc[r][c]);
        }
}

// diffBias(c) = sum over n < N, p < P of diffDst((n C + c) P + p): one block of GROUP per c,
// each thread a strided partial sum, then a tree in shared memory.
__device__ __forceinline__ void bias_backward_body(float *diffBias, const float *diffDst,
                                                   const int N, const int C, const int P) {
    __shared__ float part[GROUP];
    const int c = blockIdx.x, lid = threadIdx.x;
    float sum = 0.0f;
    for (long long i = lid; i < (long long) N * P; i += GROUP) {
        const long long n = i / P, p = i - n * P;
        sum += diffDst[(n * C + c) * P + p];
    }
    part[lid] = sum;
    __syncthreads();
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] += part[lid + s];
        __syncthreads();
    }
    if (lid == 0) diffBias[c] = part[0];
}
