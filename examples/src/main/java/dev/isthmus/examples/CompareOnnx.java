// The ONNX Runtime side of `isthmus bench compare`: the library a JVM service would pick today for
// inference (ONNX Runtime Java, com.microsoft.onnxruntime:onnxruntime, natives inside the jar), in
// this JVM, running the models the PyTorch worker exported to ONNX with Isthmus's weights.
// One session per (model, batch, intra-op threads): the batch is fixed at session creation (the
// export's symbolic "batch" dimension), so ORT plans for static shapes, as Isthmus compiles for one
// batch. Input and output tensors are created once over direct buffers and bound for every run
// (pinned outputs), the allocation-light path ORT's Java API offers. Bench-only: nothing in the
// library modules depends on ONNX Runtime.
package dev.isthmus.examples;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.isthmus.examples.CompareIsthmus.Measurement;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** ONNX Runtime sessions for the compare workloads: prepared once, then timed like Isthmus's loops. */
final class CompareOnnx implements AutoCloseable {
    /** The names torch_worker.py's export gives the graph's input, output and batch dimension. */
    static final String INPUT = "input", OUTPUT = "logits", BATCH = "batch";

    /** A session and its bound tensors: images (N, C, H, W) in, logits (N, classes) out. */
    private record Run(OrtSession session, OnnxTensor images, OnnxTensor logits, Map<String, OnnxTensor> inputs,
                       Map<String, OnnxTensor> outputs) implements AutoCloseable {
        void once() throws OrtException {
            session.run(inputs, outputs).close();   // the pinned output is not the result's to close
        }

        float[] logitsArray() {
            FloatBuffer b = logits.getFloatBuffer();   // a copy of the output
            float[] v = new float[b.remaining()];
            b.get(v);
            return v;
        }

        @Override public void close() throws OrtException {
            logits.close();
            images.close();
            session.close();
        }
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "isthmus-bench");
    private final Map<String, Run> runs = new HashMap<>();
    private final com.sun.management.ThreadMXBean threadBean =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** "ONNX Runtime 1.23.2 (Java API, CPU execution provider)". */
    String describe() {
        return "ONNX Runtime " + env.getVersion() + " (Java API, CPU execution provider; providers available "
                + OrtEnvironment.getAvailableProviders() + "), ORT_ENABLE_ALL graph optimizations, sequential execution, "
                + "static batch per session, pinned input and output";
    }

    /**
     * A session on {@code model} (an ONNX file with input {@link #INPUT} of shape (batch, sample...)
     * and output {@link #OUTPUT} (batch, classes)) for {@code batch} images, with {@code threads}
     * intra-op threads; its input holds {@code images} (row-major, batch x sample elements).
     */
    private Run open(Path model, int batch, int[] sample, int threads, float[] images) throws OrtException {
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setSymbolicDimensionValue(BATCH, batch);
            session = env.createSession(model.toString(), options);
        }
        try {
            long[] inShape = new long[sample.length + 1];
            inShape[0] = batch;
            for (int i = 0; i < sample.length; i++) inShape[i + 1] = sample[i];
            long[] outShape = shapeOf(session.getOutputInfo(), OUTPUT, model);
            long[] expectedIn = shapeOf(session.getInputInfo(), INPUT, model);
            if (!Arrays.equals(expectedIn, inShape) || outShape.length != 2 || outShape[0] != batch) {
                throw new IllegalStateException(model + ": ONNX Runtime sees input " + Arrays.toString(expectedIn) + " and output "
                        + Arrays.toString(outShape) + " at batch " + batch + "; expected input " + Arrays.toString(inShape)
                        + " and output [" + batch + ", classes]");
            }
            if (images.length != batch * elements(sample)) {
                throw new IllegalArgumentException(images.length + " input values for " + Arrays.toString(inShape));
            }
            OnnxTensor in = OnnxTensor.createTensor(env, direct(images.length).put(images).rewind(), inShape);
            OnnxTensor out = OnnxTensor.createTensor(env, direct(Math.toIntExact(outShape[0] * outShape[1])), outShape);
            return new Run(session, in, out, Map.of(INPUT, in), Map.of(OUTPUT, out));
        } catch (OrtException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private static long[] shapeOf(Map<String, NodeInfo> infos, String name, Path model) {
        NodeInfo info = infos.get(name);
        if (info == null || !(info.getInfo() instanceof TensorInfo t)) {
            throw new IllegalStateException(model + " has no tensor named '" + name + "' (it has " + infos.keySet() + ")");
        }
        return t.getShape();
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static int elements(int[] shape) {
        int n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** The logits ONNX Runtime computes for {@code images} (batch x sample, row-major) with 1 intra-op thread. */
    float[] logits(Path model, int[] sample, float[] images) throws OrtException {
        int batch = images.length / elements(sample);
        try (Run r = open(model, batch, sample, 1, images)) {
            r.once();
            return r.logitsArray();
        }
    }

    /** Opens the session a workload measures; its input holds the same values as Isthmus's (seed 21). */
    void prepare(String key, Path model, int batch, int[] sample, int threads) throws OrtException {
        if (runs.containsKey(key)) throw new IllegalStateException("ONNX Runtime workload " + key + " prepared twice");
        runs.put(key, open(model, batch, sample, threads, CompareIsthmus.uniform(21, batch * elements(sample))));
    }

    /** {@code calls} runs, each timed; the heap bytes this thread allocated around the loop. */
    Measurement infer(String key, int calls) throws OrtException {
        Run r = runs.get(key);
        if (r == null) throw new IllegalStateException("ONNX Runtime workload " + key + " was not prepared");
        long[] stamps = new long[calls + 1];
        long bytes = threadBean.getCurrentThreadAllocatedBytes();
        stamps[0] = System.nanoTime();
        for (int i = 1; i <= calls; i++) {
            r.once();
            stamps[i] = System.nanoTime();
        }
        bytes = threadBean.getCurrentThreadAllocatedBytes() - bytes;
        double[] perCall = new double[calls];
        for (int i = 0; i < calls; i++) perCall[i] = (stamps[i + 1] - stamps[i]) * 1e-9;
        return new Measurement((stamps[calls] - stamps[0]) * 1e-9, perCall, bytes);
    }

    /** Closes a workload's session (its weights and thread pool), so the next group of workloads has the memory. */
    void release(String key) throws OrtException {
        Run r = runs.remove(key);
        if (r != null) r.close();
    }

    @Override public void close() throws OrtException {
        for (Run r : runs.values()) r.close();
        runs.clear();
        // The environment is a process-wide singleton in ORT's Java API: closing it here would break
        // a second CompareOnnx in the same JVM (the tests make several), and the process ends soon.
    }
}
