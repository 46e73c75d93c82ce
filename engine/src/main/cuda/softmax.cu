// softmax.cu: softmax with mean cross-entropy against int32 labels (PyTorch's CrossEntropyLoss),
// as ReferenceSoftmaxCrossEntropyPlan: the CUDA twin of the opencl backend's softmax.cl.
//
//   logits, probs (N, K)   labels (N) in [0, K)
//   p(n, j) = exp(x(n, j) - m) / s,  m = max_j x(n, j),  s = sum_j exp(x(n, j) - m)
//   loss = mean_n (log s - (x(n, label) - m));  diffLogits = (p - onehot(label)) / N
//
// softmax_rows: one block of GROUP per row (max and sum reduced in shared memory), writing
// probs and the row's loss. softmax_loss: one block that sums the row losses and finds the
// first row whose label is outside [0, K); it writes result[0] = the mean loss (float bits) and
// result[1] = that row, or -1. The host reads those 8 bytes back.

constexpr int GROUP = 64;

extern "C" __global__ void __launch_bounds__(GROUP)
softmax_rows(float *probs, float *rowLoss,   // rowLoss: (N) plan scratch
             const float *logits, const int *labels, const int K) {
    __shared__ float part[GROUP];
    const int row = blockIdx.x, lid = threadIdx.x;
    const float *x = logits + (long long) row * K;
    float *p = probs + (long long) row * K;

    float m = __int_as_float(0xff800000);   // -infinity
    for (int j = lid; j < K; j += GROUP) m = fmaxf(m, x[j]);
    part[lid] = m;
    __syncthreads();
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] = fmaxf(part[lid], part[lid + s]);
        __syncthreads();
    }
    m = part[0];
    __syncthreads();

    float sum = 0.0f;
    for (int j = lid; j < K; j += GROUP) sum += expf(x[j] - m);
    part[lid] = sum;
    __syncthreads();
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] += part[lid + s];
        __syncthreads();
    }
    sum = part[0];

    for (int j = lid; j < K; j += GROUP) p[j] = expf(x[j] - m) / sum;
    if (lid == 0) {
        const int label = labels[row];
        rowLoss[row] = (label >= 0 && label < K) ? logf(sum) - (x[label] - m) : 0.0f;
    }
}

// Sums rowLoss (when non-NULL) and checks every label; one block of GROUP.
extern "C" __global__ void __launch_bounds__(GROUP)
softmax_loss(int *result,   // [mean loss as float bits, first bad row or -1]
             const float *rowLoss, const int *labels, const int N, const int K) {
    __shared__ float part[GROUP];
    __shared__ int bad[GROUP];
    const int lid = threadIdx.x;
    float sum = 0.0f;
    int firstBad = N;
    for (int r = lid; r < N; r += GROUP) {
        if (rowLoss) sum += rowLoss[r];
        const int label = labels[r];
        if ((label < 0 || label >= K) && r < firstBad) firstBad = r;
    }
    part[lid] = sum;
    bad[lid] = firstBad;
    __syncthreads();
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) {
            part[lid] += part[lid + s];
            bad[lid] = min(bad[lid], bad[lid + s]);
        }
        __syncthreads();
    }
    if (lid == 0) {
        result[0] = __float_as_int(part[0] / N);
        result[1] = bad[0] < N ? bad[0] : -1;
    }
}

// diffLogits(n, j) = (p(n, j) - [j == label(n)]) / N, one thread per element.
extern "C" __global__ void softmax_backward(float *diffLogits, const float *probs, const int *labels, const int N, const int K) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long) N * K) return;
    const int row = i / K, j = i - (long long) row * K;
    const float onehot = labels[row] == j ? 1.0f : 0.0f;
    diffLogits[i] = (probs[i] - onehot) / N;
}
