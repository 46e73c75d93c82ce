// vector.cu: y += alpha x, one thread per element (Backend.axpy). Backend.fill needs no kernel:
// it is cuMemsetD32 with the float's bits, as the opencl backend uses clEnqueueFillBuffer.

extern "C" __global__ void axpy(float *y, const float *x, const long long n, const float alpha) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = fmaf(alpha, x[i], y[i]);
}
