// dropout.cu: inverted dropout with the counter-based mask of DropoutPlan.keep(seed, i, p),
// ported bit for bit (the CUDA twin of the opencl backend's dropout.cl): SplitMix64's finaliser
// over (seed, i) in 64-bit unsigned arithmetic (Java's long multiplication wraps the same way;
// >>> is >> on unsigned), the top 32 bits compared with threshold = (long) ((1 - p) 2^32),
// computed on the host. Mask: one byte per element.

extern "C" __global__ void dropout_forward(float *dst, unsigned char *mask, const float *src, const long long n,
                                           const unsigned long long seed, const unsigned long long threshold,
                                           const float scale) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned long long z = seed * 0x9E3779B97F4A7C15ULL + ((unsigned long long) i + 1ULL) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    const unsigned char keep = (z >> 32) < threshold ? 1 : 0;
    mask[i] = keep;
    dst[i] = keep ? src[i] * scale : 0.0f;
}

extern "C" __global__ void dropout_backward(float *diffSrc, const float *diffDst, const unsigned char *mask,
                                            const long long n, const float scale) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    diffSrc[i] = mask[i] ? diffDst[i] * scale : 0.0f;
}
