// eltwise.cu: element-wise activations, one thread per element (EltwiseKind's definitions): the
// CUDA twin of the opencl backend's eltwise.cl. The backward takes the forward's output y: f'(x)
// is written in terms of y. Kinds, as EltwiseKind.ordinal(): 0 RELU, 1 TANH, 2 SCALED_TANH
// (LeCun: 1.7159 tanh(2x/3)), 3 SIGMOID. In place is allowed: each thread reads its element first.

#define SCALED_TANH_A 1.7159f
#define SCALED_TANH_S (2.0f / 3.0f)

extern "C" __global__ void eltwise_forward(float *dst, const float *src, const long long n, const int kind) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = src[i];
    float y;
    switch (kind) {
        case 0: y = x > 0.0f ? x : 0.0f; break;
        case 1: y = tanhf(x); break;
        case 2: y = SCALED_TANH_A * tanhf(SCALED_TANH_S * x); break;
        default: y = 1.0f / (1.0f + expf(-x)); break;
    }
    dst[i] = y;
}

extern "C" __global__ void eltwise_backward(float *diffSrc, const float *diffDst, const float *dst,
                                            const long long n, const int kind) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float y = dst[i];
    float d;
    switch (kind) {
        case 0: d = y > 0.0f ? 1.0f : 0.0f; break;
        case 1: d = 1.0f - y * y; break;
        case 2: d = SCALED_TANH_S / SCALED_TANH_A * (SCALED_TANH_A * SCALED_TANH_A - y * y); break;
        default: d = y * (1.0f - y); break;
    }
    diffSrc[i] = diffDst[i] * d;
}
