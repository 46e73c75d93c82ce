// optimizer.cl: the update rules of OptimizerSpec (PyTorch's SGD, RMSProp, Adam), one work-item
// per parameter. State slots, n apart: SGD [buf]; RMSProp [sq, buf]; Adam [m, v].
// Per-step scalars (learning rate, Adam's bias corrections) are computed on the host in double.

__kernel void sgd_step(__global float *params, const long paramsOff,
                       __global float *state, const long stateOff,
                       __global const float *grads, const long gradsOff,
                       const long n, const float lr, const float momentum, const float dampening,
                       const float weightDecay, const int nesterov, const int firstStep) {
    const long i = get_global_id(0);
    if (i >= n) return;
    float p = params[paramsOff + i];
    float g = grads[gradsOff + i] + weightDecay * p;
    if (momentum > 0.0f) {
        const float buf = firstStep ? g : momentum * state[stateOff + i] + (1.0f - dampening) * g;
        state[stateOff + i] = buf;
        g = nesterov ? g + momentum * buf : buf;
    }
    params[paramsOff + i] = p - lr * g;
}

__kernel void rmsprop_step(__global float *params, const long paramsOff,
                           __global float *state, const long stateOff,
                           __global const float *grads, const long gradsOff,
                           const long n, const float lr, const float alpha, const float eps,
                           const float weightDecay, const float momentum) {
    const long i = get_global_id(0);
    if (i >= n) return;
    float p = params[paramsOff + i];
    const float g = grads[gradsOff + i] + weightDecay * p;
    const float sq = alpha * state[stateOff + i] + (1.0f - alpha) * g * g;
    state[stateOff + i] = sq;
    float d = g / (sqrt(sq) + eps);
    if (momentum > 0.0f) {
        const float buf = momentum * state[stateOff + n + i] + d;
        state[stateOff + n + i] = buf;
        d = buf;
    }
    params[paramsOff + i] = p - lr * d;
}

// p -= stepSize m / (sqrt(v) invSqrtCorrection2 + eps), stepSize = lr / (1 - beta1^t),
// invSqrtCorrection2 = 1 / sqrt(1 - beta2^t); decoupled weight decay first scales p by 1 - lr wd.
__kernel void adam_step(__global float *params, const long paramsOff,
                        __global float *state, const long stateOff,
                        __global const float *grads, const long gradsOff,
                        const long n, const float stepSize, const float invSqrtCorrection2, const float decay,
                        const float beta1, const float beta2, const float eps, const float weightDecay,
                        const int decoupled) {
    const long i = get_global_id(0);
    if (i >= n) return;
    float p = params[paramsOff + i];
    float g = grads[gradsOff + i];
    if (decoupled) p *= decay;
    else g += weightDecay * p;
    const float m = beta1 * state[stateOff + i] + (1.0f - beta1) * g;
    const float v = beta2 * state[stateOff + n + i] + (1.0f - beta2) * g * g;
    state[stateOff + i] = m;
    state[stateOff + n + i] = v;
    params[paramsOff + i] = p - stepSize * m / (sqrt(v) * invSqrtCorrection2 + eps);
}
