// vector.cl: y += alpha x, one work-item per element (Backend.axpy).

__kernel void axpy(__global float *y, const long yOff,
                   __global const float *x, const long xOff,
                   const long n, const float alpha) {
    const long i = get_global_id(0);
    if (i >= n) return;
    y[yOff + i] = fma(alpha, x[xOff + i], y[yOff + i]);
}
