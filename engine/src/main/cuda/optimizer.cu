// optimizer.cu: the update rules of OptimizerSpec (PyTorch's SGD, RMSProp, Adam), one thread per
// parameter: the CUDA twin of the opencl backend's optimizer.cl. State slots, n apart: SGD [buf];
// RMSProp [sq, buf]; Adam [m, v]. Per-step scalars (learning rate, Adam's bias corrections) are
// computed on the host in double.

extern "C" __global__ void sgd_step(float *params, float *state, const float *grads, const long long n,
                                    const float lr, const float momentum, const float dampening,
                                    const float weightDecay, const int nesterov, const int firstStep) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    float g = grads[i] + weightDecay * p;
    if (momentum > 0.0f) {
        const float buf = firstStep ? g : momentum * state[i] + (1.0f - dampening) * g;
        state[i] = buf;
        g = nesterov ? g + momentum * buf : buf;
    }
    params[i] = p - lr * g;
}

extern "C" __global__ void rmsprop_step(float *params, float *state, const float *grads, const long long n,
                                        const float lr, const float alpha, const float eps,
                                        const float weightDecay, const float momentum) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    const float g = grads[i] + weightDecay * p;
    const float sq = alpha * state[i] + (1.0f - alpha) * g * g;
    state[i] = sq;
    float d = g / (sqrtf(sq) + eps);
    if (momentum > 0.0f) {
        const float buf = momentum * state[n + i] + d;
        state[n + i] = buf;
        d = buf;
    }
    params[i] = p - lr * d;
}

// p -= stepSize m / (sqrt(v) invSqrtCorrection2 + eps), stepSize = lr / (1 - beta1^t),
// invSqrtCorrection2 = 1 / sqrt(1 - beta2^t); decoupled weight decay first scales p by 1 - lr wd.
extern "C" __global__ void adam_step(float *params, float *state, const float *grads, const long long n,
                                     const float stepSize, const float invSqrtCorrection2, const float decay,
                                     const float beta1, const float beta2, const float eps, const float weightDecay,
                                     const int decoupled) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    float g = grads[i];
    if (decoupled) p *= decay;
    else g += weightDecay * p;
    const float m = beta1 * state[i] + (1.0f - beta1) * g;
    const float v = beta2 * state[n + i] + (1.0f - beta2) * g * g;
    state[i] = m;
    state[n + i] = v;
    params[i] = p - stepSize * m / (sqrtf(v) * invSqrtCorrection2 + eps);
}
