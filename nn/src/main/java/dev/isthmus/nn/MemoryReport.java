package dev.isthmus.nn;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The native bytes a compiled {@link Sequential} holds, split as DESIGN.md's round 2 splits a
 * model: what the compiled model holds once (parameters, and what plans keep for themselves such
 * as weights in a primitive's layout), and what one execution context holds (activations,
 * workspaces, backward buffers, gradients, and the plans' scratchpads and reorder buffers). An
 * inference compile has no gradients, workspaces or backward buffers.
 *
 * @param parameterBytes    the parameter slab
 * @param gradientBytes     the gradient slab and its accumulation scratch (training only)
 * @param activationBytes   the layers' forward outputs
 * @param workspaceBytes    what training forwards keep for their backward (pooling indices, masks)
 * @param backwardBytes     gradients with respect to inputs and pre-activation outputs (training only)
 * @param planBytes         held by the plans once, and parameters kept in a plan's layout (inference)
 * @param planContextBytes  the plans' per-context scratchpads and reorder buffers, one context each
 * @param scratchpadBytes   the scratchpad part of {@code planContextBytes}
 */
public record MemoryReport(long parameterBytes, long gradientBytes, long activationBytes, long workspaceBytes,
                           long backwardBytes, long planBytes, long planContextBytes, long scratchpadBytes) {

    /** The floor an inference compile cannot go under: the weights, the forward's activations and the scratchpads. */
    public long inferenceFloorBytes() { return parameterBytes + activationBytes + scratchpadBytes; }

    /** Held once per compiled model: parameters and plan-owned bytes. */
    public long modelBytes() { return parameterBytes + planBytes; }

    /** Held per execution context: everything one call in flight uses. */
    public long contextBytes() { return gradientBytes + activationBytes + workspaceBytes + backwardBytes + planContextBytes; }

    /** Buffers that only training uses: gradients, workspaces and backward buffers. */
    public long trainingOnlyBytes() { return gradientBytes + workspaceBytes + backwardBytes; }

    public long totalBytes() { return modelBytes() + contextBytes(); }

    /** Three lines: the model, one context and its parts, the total. */
    @Override public String toString() {
        return String.format(Locale.ROOT, "native memory: compiled model %s (parameters %s, plans %s)%n"
                        + "  per execution context %s (activations %s, plan scratchpads %s and reorder buffers %s,"
                        + " gradients %s, workspaces %s, backward buffers %s)%n"
                        + "  total %s" + (trainingOnlyBytes() == 0 ? ", %.2fx the floor of weights + activations + scratchpads (%s)" : ""),
                mib(modelBytes()), mib(parameterBytes), mib(planBytes), mib(contextBytes()), mib(activationBytes),
                mib(scratchpadBytes), mib(planContextBytes - scratchpadBytes), mib(gradientBytes), mib(workspaceBytes),
                mib(backwardBytes), mib(totalBytes()), (double) totalBytes() / inferenceFloorBytes(), mib(inferenceFloorBytes()));
    }

    static String mib(long bytes) {
        return bytes < (1 << 20) ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }

    /** A plan that reports its reorders, and the index of the layer that owns it. */
    record LayerPlan(int layer, dev.isthmus.engine.ReorderReport plan) {}

    /** What a compile adds up, per {@link CompileContext.Buffer}, and the plans that report reorders. */
    static final class Counter {
        private final Map<CompileContext.Buffer, Long> bytes = new EnumMap<>(CompileContext.Buffer.class);
        final java.util.List<LayerPlan> plans = new java.util.ArrayList<>();

        void add(CompileContext.Buffer purpose, long n) { bytes.merge(purpose, n, Long::sum); }

        long get(CompileContext.Buffer purpose) { return bytes.getOrDefault(purpose, 0L); }
    }
}
