package dev.isthmus.nn;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.nn.io.Safetensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and restores a model (and optionally its optimizer) as a safetensors file:
 * one F32 tensor per parameter under its name ("c1.weight"), the optimizer state under
 * "optimizer.state", and string metadata (epoch, optimizer steps, learning rate, the optimizer's
 * name and hyper-parameters under "optimizer.*" (see {@link CheckpointKeys}), the run's
 * configuration). Loading refuses NaN or infinite weights and an optimizer other than the saved one. Written atomically; loading checks every name, shape and dtype and says
 * which one differs. Readable by Python's {@code safetensors.torch.load_file}.
 */
public final class Checkpoint {
    public static final String OPTIMIZER_STATE = "optimizer.state";
    public static final String STEPS = "optimizer.steps";
    public static final String LR = "optimizer.lr";

    private Checkpoint() {}

    /** Writes the model's parameters, the optimizer (if not null) and {@code metadata} to {@code file}. */
    public static void save(Path file, Sequential model, Optimizer optimizer, Map<String, String> metadata) throws IOException {
        Map<String, Safetensors.Entry> entries = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) entries.put(p.name(), entry(p.value()));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        if (optimizer != null) {
            entries.put(OPTIMIZER_STATE, entry(optimizer.state()));
            meta.put(STEPS, Long.toString(optimizer.steps()));
            meta.put(LR, Float.toString(optimizer.lr()));
            meta.putAll(CheckpointKeys.optimizer(optimizer));   // its name and hyper-parameters, checked on resume
        }
        meta.put("format", "isthmus");
        Safetensors.write(file, entries, meta);
    }

    private static Safetensors.Entry entry(Tensor t) {
        if (t.device().isHost()) return new Safetensors.Entry(Safetensors.Dtype.F32, t.shape().longDims(), t.segment());
        return Safetensors.Entry.ofFloats(t.toFloatArray(), t.shape().longDims());
    }

    /**
     * Loads parameters (and the optimizer's state and step count, when {@code optimizer} is not
     * null and the file has them) into a compiled model. Returns the file's metadata.
     * Throws IllegalArgumentException listing every missing, unexpected or mismatched tensor.
     */
    public static Map<String, String> load(Path file, Sequential model, Optimizer optimizer) throws IOException {
        try (Safetensors st = Safetensors.read(file)) {
            Map<String, Safetensors.Spec> expected = new LinkedHashMap<>();
            for (Parameter p : model.parameters()) expected.put(p.name(), new Safetensors.Spec(Safetensors.Dtype.F32, p.shape().longDims()));
            boolean hasState = st.entries().containsKey(OPTIMIZER_STATE);
            if (hasState) {
                Shape stateShape = optimizer != null ? optimizer.state().shape() : null;
                expected.put(OPTIMIZER_STATE, new Safetensors.Spec(Safetensors.Dtype.F32,
                        stateShape != null ? stateShape.longDims() : st.get(OPTIMIZER_STATE).shape()));
            }
            st.requireMatches(expected);   // its message names the file and the first tensor that differs
            for (Parameter p : model.parameters()) requireFinite(file, p.name(), st.get(p.name()).data());
            if (optimizer != null && hasState) {
                CheckpointKeys.requireSameOptimizer(file, st.metadata(), optimizer);
                requireFinite(file, OPTIMIZER_STATE, st.get(OPTIMIZER_STATE).data());
            }
            for (Parameter p : model.parameters()) copyInto(p.value(), st.get(p.name()).data());
            if (optimizer != null && hasState) {
                copyInto(optimizer.state(), st.get(OPTIMIZER_STATE).data());
                if (st.metadata().containsKey(STEPS)) optimizer.setSteps(CheckpointKeys.nonNegativeLong(file, st.metadata(), STEPS));
            }
            return Map.copyOf(st.metadata());
        }
    }

    /**
     * Like {@link #load(Path, Sequential, Optimizer)}, but without the optimizer's state: for
     * changing the optimizer on purpose ({@code --reset-optimizer}). The weights are checked as
     * by load; the optimizer starts from zero state and step 0.
     */
    public static Map<String, String> loadWeights(Path file, Sequential model) throws IOException {
        return load(file, model, null);
    }

    /** Refuses a NaN or infinite value, naming the file, the tensor, the element and the value. */
    static void requireFinite(Path file, String tensor, MemorySegment data) {
        long n = data.byteSize() / Float.BYTES;
        for (long i = 0; i < n; i++) {
            float v = data.getAtIndex(UNALIGNED_FLOAT, i);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException(file + ": tensor '" + tensor + "' holds " + v + " at element " + i
                        + " of " + n + ", expected finite weights (the run that wrote it diverged, or the file is damaged)");
            }
        }
    }

    private static final java.lang.foreign.ValueLayout.OfFloat UNALIGNED_FLOAT =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private static void copyInto(Tensor t, MemorySegment data) {
        // safetensors data may be unaligned inside the mapping; copyFromHost copies bytes.
        t.copyFromHost(data);
    }
}
