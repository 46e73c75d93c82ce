// eltwise.cl: element-wise activations, one work-item per element (EltwiseKind's definitions).
// The backward takes the forward's output y: f'(x) is written in terms of y. Kinds, as
// EltwiseKind.ordinal(): 0 RELU, 1 TANH, 2 SCALED_TANH (LeCun: 1.7159 tanh(2x/3)), 3 SIGMOID.

#define SCALED_TANH_A 1.7159f
#define SCALED_TANH_S (2.0f / 3.0f)

__kernel void eltwise_forward(__global float *dst, const long dstOff,
                              __global const float *src, const long srcOff,
                              const long n, const int kind) {
    const long i = get_global_id(0);
    if (i >= n) return;
    const float x = src[srcOff + i];
    float y;
    switch (kind) {
        case 0: y = x > 0.0f ? x : 0.0f; break;
        case 1: y = tanh(x); break;
        case 2: y = SCALED_TANH_A * tanh(SCALED_TANH_S * x); break;
        default: y = 1.0f / (1.0f + exp(-x)); break;
    }
    dst[dstOff + i] = y;
}

__kernel void eltwise_backward(__global float *diffSrc, const long diffSrcOff,
                               __global const float *diffDst, const long diffDstOff,
                               __global const float *dst, const long dstOff,
                               const long n, const int kind) {
    const long i = get_global_id(0);
    if (i >= n) return;
    const float y = dst[dstOff + i];
    float d;
    switch (kind) {
        case 0: d = y > 0.0f ? 1.0f : 0.0f; break;
        case 1: d = 1.0f - y * y; break;
        case 2: d = SCALED_TANH_S / SCALED_TANH_A * (SCALED_TANH_A * SCALED_TANH_A - y * y); break;
        default: d = y * (1.0f - y); break;
    }
    diffSrc[diffSrcOff + i] = diffDst[diffDstOff + i] * d;
}
