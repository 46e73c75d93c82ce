// softmax.cl: softmax with mean cross-entropy against int32 labels (PyTorch's CrossEntropyLoss),
// as ReferenceSoftmaxCrossEntropyPlan:
//
//   logits, probs (N, K)   labels (N) in [0, K)
//   p(n, j) = exp(x(n, j) - m) / s,  m = max_j x(n, j),  s = sum_j exp(x(n, j) - m)
//   loss = mean_n (log s - (x(n, label) - m));  diffLogits = (p - onehot(label)) / N
//
// softmax_rows: one work-group of GROUP per row (max and sum reduced in local memory), writing
// probs and the row's loss. softmax_loss: one work-group that sums the row losses and finds the
// first row whose label is outside [0, K); it writes result[0] = the mean loss (float bits) and
// result[1] = that row, or -1. The host reads those 8 bytes back.

#define GROUP 64

__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void softmax_rows(__global float *probs, const long probsOff,
                  __global float *rowLoss,                 // (N) plan scratch
                  __global const float *logits, const long logitsOff,
                  __global const int *labels, const long labelsOff,
                  const int K) {
    __local float part[GROUP];
    const int row = get_group_id(0), lid = get_local_id(0);
    __global const float *x = logits + logitsOff + (long) row * K;
    __global float *p = probs + probsOff + (long) row * K;

    float m = -INFINITY;
    for (int j = lid; j < K; j += GROUP) m = fmax(m, x[j]);
    part[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] = fmax(part[lid], part[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (int j = lid; j < K; j += GROUP) sum += exp(x[j] - m);
    part[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] += part[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    sum = part[0];

    for (int j = lid; j < K; j += GROUP) p[j] = exp(x[j] - m) / sum;
    if (lid == 0) {
        const int label = labels[labelsOff + row];
        rowLoss[row] = (label >= 0 && label < K) ? log(sum) - (x[label] - m) : 0.0f;
    }
}

// Sums rowLoss (when non-NULL) and checks every label; one work-group of GROUP.
__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void softmax_loss(__global int *result,                   // [mean loss as float bits, first bad row or -1]
                  __global const float *rowLoss,
                  __global const int *labels, const long labelsOff,
                  const int N, const int K) {
    __local float part[GROUP];
    __local int bad[GROUP];
    const int lid = get_local_id(0);
    float sum = 0.0f;
    int firstBad = N;
    for (int r = lid; r < N; r += GROUP) {
        if (rowLoss) sum += rowLoss[r];
        const int label = labels[labelsOff + r];
        if ((label < 0 || label >= K) && r < firstBad) firstBad = r;
    }
    part[lid] = sum;
    bad[lid] = firstBad;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) {
            part[lid] += part[lid + s];
            bad[lid] = min(bad[lid], bad[lid + s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        result[0] = as_int(part[0] / N);
        result[1] = bad[0] < N ? bad[0] : -1;
    }
}

// diffLogits(n, j) = (p(n, j) - [j == label(n)]) / N, one work-item per element.
__kernel void softmax_backward(__global float *diffLogits, const long diffLogitsOff,
                               __global const float *probs, const long probsOff,
                               __global const int *labels, const long labelsOff,
                               const int N, const int K) {
    const long i = get_global_id(0);
    if (i >= (long) N * K) return;
    const int row = i / K, j = i - (long) row * K;
    const float onehot = labels[labelsOff + row] == j ? 1.0f : 0.0f;
    diffLogits[diffLogitsOff + i] = (probs[probsOff + i] - onehot) / N;
}
