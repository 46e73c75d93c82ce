// The Isthmus side of `isthmus bench compare`: the workloads run in this JVM, on the dnnl and simd
// backends, with the same shapes, batch, optimizer and thread count as the PyTorch and C workers.
// Setup (compile, planning, data) happens in prepare(); measure() only runs the timed loop.
// Inference also runs at a thread count of its own (1 for the batch-1 rows, so that each peer uses
// one core): a dnnl backend and its compiles are made while OpenMP is set to that count (oneDNN
// fixes a primitive's threads when it is created), and run with it; simd gets a pool of that size.
package dev.isthmus.examples;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.omp.omp_h;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.dnnl.DnnlConv2dPlan;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.nn.AlexNet;
import dev.isthmus.nn.CrossEntropyLoss;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Runs the compare workloads in-process on Isthmus's dnnl and simd backends. */
final class CompareIsthmus implements AutoCloseable {
    static final float LR = 0.01f, MOMENTUM = 0.9f;
    static final int ALEXNET_CLASSES = 1000;
    static final long SEED = 1;

    /** Who runs a workload: Isthmus on one of its backends, or a worker process. */
    enum Peer {
        DNNL("Isthmus dnnl"), SIMD("Isthmus simd"), TORCH("PyTorch"), C("C oneDNN"), ORT("ONNX Runtime");

        final String title;

        Peer(String title) { this.title = title; }
    }

    /**
     * A convolution of the comparison: oneDNN's geometry (padding per side, no dilation), named
     * after the network layer. The bench module's Problems holds the same table in benchdnn's
     * notation; it is not reachable from here (bench depends on examples), so the few problems
     * are written out as Conv2dSpecs.
     */
    record ConvCase(String name, Conv2dSpec spec) {
        static ConvCase of(String name, int groups, int batch, int inChannels, int side, int outChannels,
                           int kernel, int stride, int padding) {
            return new ConvCase(name, new Conv2dSpec(batch, inChannels, side, side, outChannels,
                    Window.square(kernel, stride, padding), groups, true));
        }

        /** The same problem at another batch (the numerical checks run at batch 2). */
        ConvCase withBatch(int batch, String newName) {
            Conv2dSpec s = spec;
            return new ConvCase(newName, new Conv2dSpec(batch, s.inChannels(), s.inHeight(), s.inWidth(), s.outChannels(),
                    s.window(), s.groups(), s.hasBias()));
        }

        /** The workers' {@code define} line: {@code define NAME g mb ic ih iw oc kh kw sh sw pt pl pb pr}. */
        String defineLine() {
            Window w = spec.window();
            return String.join(" ", "define", name, str(spec.groups()), str(spec.batch()), str(spec.inChannels()),
                    str(spec.inHeight()), str(spec.inWidth()), str(spec.outChannels()), str(w.kernelHeight()),
                    str(w.kernelWidth()), str(w.strideHeight()), str(w.strideWidth()), str(w.padTop()), str(w.padLeft()),
                    str(w.padBottom()), str(w.padRight()));
        }

        private static String str(int v) { return Integer.toString(v); }
    }

    /** One timed run: total seconds, each call's seconds where the workload keeps them, heap bytes allocated (-1: not measured). */
    record Measurement(double seconds, double[] perCall, long heapBytes) {}

    private final int threads;
    private final DnnlBackend dnnl;
    private final SimdBackend simd;
    /** Backends for inference at other thread counts than {@link #threads}, made on first use. */
    private final Map<Integer, DnnlBackend> dnnlAt = new HashMap<>();
    private final Map<Integer, SimdBackend> simdAt = new HashMap<>();
    private final Map<String, AutoCloseable> states = new HashMap<>();
    private final com.sun.management.ThreadMXBean threadBean =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    CompareIsthmus(int threads) {
        this.threads = threads;
        this.dnnl = new DnnlBackend();
        this.simd = new SimdBackend(threads);
        setOmpThreads(threads);
    }

    /**
     * oneDNN's OpenMP pool to {@code n} threads for this (the calling) thread, as OMP_NUM_THREADS
     * does for the workers. The bindings have no omp_set_num_threads, so it is looked up here in
     * the libgomp oneDNN runs on.
     */
    private static void setOmpThreads(int n) {
        MethodHandle set = Linker.nativeLinker().downcallHandle(
                NativeLibraries.gomp().lookup().find("omp_set_num_threads")
                        .orElseThrow(() -> new IllegalStateException("omp_set_num_threads not found in " + NativeLibraries.gomp().path())),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        try {
            set.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("omp_set_num_threads(" + n + ") failed", t);
        }
        int got = omp_h.omp_get_max_threads();
        if (got != n) throw new IllegalStateException("asked OpenMP for " + n + " threads, omp_get_max_threads() says " + got);
    }

    Backend backend(Peer peer) {
        return switch (peer) {
            case DNNL -> dnnl;
            case SIMD -> simd;
            default -> throw new IllegalArgumentException(peer + " does not run in this JVM");
        };
    }

    /** The backend of {@code peer} with {@code n} threads (for dnnl: to be used while OpenMP is set to n). */
    Backend backend(Peer peer, int n) {
        if (n == threads) return backend(peer);
        return switch (peer) {
            case DNNL -> dnnlAt.computeIfAbsent(n, k -> atOmpThreads(k, DnnlBackend::new));   // its thread team: k threads
            case SIMD -> simdAt.computeIfAbsent(n, SimdBackend::new);
            default -> throw new IllegalArgumentException(peer + " does not run in this JVM");
        };
    }

    /** Runs {@code work} with OpenMP set to {@code n} threads on this thread, then back to {@link #threads}. */
    <T> T atOmpThreads(int n, java.util.function.Supplier<T> work) {
        if (n == threads) return work.get();
        setOmpThreads(n);
        try {
            return work.get();
        } finally {
            setOmpThreads(threads);
        }
    }

    String describe(Peer peer) {
        return peer == Peer.SIMD ? "simd, " + threads + " threads [" + simd.describe() + "]" : dnnl.describe();
    }

    int threads() { return threads; }

    // ---- whole networks ------------------------------------------------------------------------

    /** A model, its loss, SGD with momentum and one batch of random data of the model's shape. */
    private static final class Training implements AutoCloseable {
        final Sequential model;
        final CrossEntropyLoss loss;
        final SGD sgd;
        final Tensor images, labels;   // (N, C, H, W), (N) int32

        Training(Backend backend, Sequential model, Shape input, int batch, int classes) {
            this.model = model.compile(backend, batch, input, Sequential.Mode.TRAIN, SEED);
            this.loss = new CrossEntropyLoss().compile(backend, batch, classes);
            this.sgd = new SGD(model.parameters(), LR, MOMENTUM, 0f, false);
            this.images = uniform(backend, input.prepend(batch), 11);
            this.labels = labels(backend, batch, classes, 12);
        }

        float step() {
            float l = loss.forward(model.forward(images), labels);
            sgd.zeroGrad();
            model.backward(loss.backward());
            sgd.step();
            return l;
        }

        @Override public void close() {
            labels.close();
            images.close();
            sgd.close();
            loss.close();
            model.close();
        }
    }

    private static final class Inference implements AutoCloseable {
        final Sequential model;
        final Tensor images;
        final int threads;

        Inference(Backend backend, Sequential model, Shape input, int batch, int threads) {
            this.model = model.compile(backend, batch, input, Sequential.Mode.INFERENCE, SEED);
            this.images = uniform(backend, input.prepend(batch), 21);
            this.threads = threads;
        }

        @Override public void close() {
            images.close();
            model.close();
        }
    }

    static Sequential model(String name) {
        return switch (name) {
            case "lenet" -> LeNet5.classic();
            case "alexnet-paper" -> AlexNet.paper(ALEXNET_CLASSES);
            case "alexnet-modern" -> AlexNet.modern(ALEXNET_CLASSES);
            default -> throw new IllegalArgumentException("unknown model " + name);
        };
    }

    /**
     * The model an inference workload runs: AlexNet with He initialisation, so that the logits the
     * peers must agree on depend on every layer (the paper's N(0, 0.01) weights with biases of 1
     * make fc7's output nearly constant); the work per call is the same for any weights.
     */
    static Sequential inferenceModel(String name) {
        Sequential m = model(name);
        return name.startsWith("alexnet") ? AlexNet.heInit(m) : m;
    }

    static Shape input(String name) {
        return switch (name) {
            case "lenet" -> Shape.of(1, 32, 32);
            case "alexnet-paper" -> Shape.of(3, AlexNet.PAPER_SIZE, AlexNet.PAPER_SIZE);
            default -> Shape.of(3, AlexNet.MODERN_SIZE, AlexNet.MODERN_SIZE);
        };
    }

    static int classes(String name) { return name.equals("lenet") ? LeNet5.CLASSES : ALEXNET_CLASSES; }

    void prepareTraining(Peer peer, String key, String name, int batch) {
        states.put(peer + key, new Training(backend(peer), model(name), input(name), batch, classes(name)));
    }

    /** Compiles {@code name} for inference at {@code batch} on {@code peer} with {@code n} threads. */
    void prepareInference(Peer peer, String key, String name, int batch, int n) {
        Backend b = backend(peer, n);
        states.put(peer + key, atOmpThreads(n, () -> new Inference(b, inferenceModel(name), input(name), batch, n)));
    }

    /** Frees what a workload prepared on {@code peer} (its compile, weights and buffers). */
    void release(Peer peer, String key) {
        AutoCloseable s = states.remove(peer + key);
        if (s == null) return;
        try {
            s.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + peer.title + " " + key, e);
        }
    }

    /**
     * {@code name} compiled for inference from seed {@link #SEED} at {@code images.length / sample}
     * images on {@code peer} ({@link #threads} threads): {its parameters in order, the logits of
     * {@code images}}, for the agreement check with PyTorch and ONNX Runtime.
     */
    float[][] inferenceLogits(Peer peer, String name, float[] images) {
        Shape sample = input(name);
        int batch = Math.toIntExact(images.length / sample.elements());
        try (Inference s = new Inference(backend(peer), inferenceModel(name), sample, batch, threads)) {
            s.images.copyFrom(images);
            float[] logits = s.model.forward(s.images).toFloatArray();   // (N, classes)
            return new float[][] {s.model.parameters().values().toFloatArray(), logits};
        }
    }

    /** {@code steps} training steps; the heap bytes this thread allocated over them. */
    Measurement train(Peer peer, String key, int steps) {
        Training t = (Training) states.get(peer + key);
        long bytes = threadBean.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        float last = 0;
        for (int i = 0; i < steps; i++) last = t.step();
        long t1 = System.nanoTime();
        bytes = threadBean.getCurrentThreadAllocatedBytes() - bytes;
        if (!Float.isFinite(last)) throw new IllegalStateException(key + " on " + peer.title + ": the loss is " + last);
        return new Measurement((t1 - t0) * 1e-9, null, bytes);
    }

    /** {@code calls} forward passes, each timed; the heap bytes this thread allocated around the loop. */
    Measurement infer(Peer peer, String key, int calls) {
        Inference s = (Inference) states.get(peer + key);
        return peer == Peer.DNNL ? atOmpThreads(s.threads, () -> timedForwards(s, calls)) : timedForwards(s, calls);
    }

    private Measurement timedForwards(Inference s, int calls) {
        long[] stamps = new long[calls + 1];   // allocated before the measured loop
        Sequential model = s.model;
        Tensor images = s.images;
        long bytes = threadBean.getCurrentThreadAllocatedBytes();
        stamps[0] = System.nanoTime();
        for (int i = 1; i <= calls; i++) {
            model.forward(images);
            stamps[i] = System.nanoTime();
        }
        bytes = threadBean.getCurrentThreadAllocatedBytes() - bytes;
        double[] perCall = new double[calls];
        for (int i = 0; i < calls; i++) perCall[i] = (stamps[i + 1] - stamps[i]) * 1e-9;
        return new Measurement((stamps[calls] - stamps[0]) * 1e-9, perCall, bytes);
    }

    // ---- convolutions --------------------------------------------------------------------------

    /** A planned convolution and every tensor its three passes take. */
    private static final class Conv implements AutoCloseable {
        final Conv2dPlan plan;
        final Tensor src, weights, bias, dst, diffSrc, diffWeights, diffBias, diffDst;

        Conv(Backend backend, Conv2dSpec spec) {
            plan = backend.conv2d(spec);
            src = uniform(backend, spec.srcShape(), 1);
            weights = uniform(backend, spec.weightsShape(), 2);
            bias = uniform(backend, spec.biasShape(), 3);
            diffDst = uniform(backend, spec.dstShape(), 4);
            dst = backend.allocate(spec.dstShape(), DType.F32);
            diffSrc = backend.allocate(spec.srcShape(), DType.F32);
            diffWeights = backend.allocate(spec.weightsShape(), DType.F32);
            diffBias = backend.allocate(spec.biasShape(), DType.F32);
        }

        void run(String pass) {
            switch (pass) {
                case "fwd" -> plan.forward(dst, src, weights, bias);
                case "bwd_d" -> plan.backwardData(diffSrc, diffDst, weights);
                case "bwd_w" -> plan.backwardWeights(diffWeights, diffBias, diffDst, src);
                default -> throw new IllegalArgumentException("unknown pass " + pass + "; expected fwd, bwd_d or bwd_w");
            }
        }

        @Override public void close() {
            for (Tensor t : new Tensor[] {src, weights, bias, dst, diffSrc, diffWeights, diffBias, diffDst}) t.close();
            plan.close();
        }
    }

    /** Plans the convolution on {@code peer}; returns the implementations oneDNN chose (dnnl) or null. */
    String prepareConv(Peer peer, ConvCase c) {
        Conv conv = new Conv(backend(peer), c.spec());
        states.put(peer + "conv " + c.name(), conv);
        return conv.plan instanceof DnnlConv2dPlan d ? d.layouts() : null;
    }

    Measurement conv(Peer peer, ConvCase c, String pass, int calls) {
        Conv conv = (Conv) states.get(peer + "conv " + c.name());
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) conv.run(pass);
        return new Measurement((System.nanoTime() - t0) * 1e-9, null, -1);
    }

    /** dst, diffSrc, diffWeights, diffBias of the three passes on the given inputs. */
    float[][] convOutputs(Peer peer, ConvCase c, float[] src, float[] weights, float[] bias, float[] diffDst) {
        try (Conv conv = new Conv(backend(peer), c.spec())) {
            conv.src.copyFrom(src);
            conv.weights.copyFrom(weights);
            conv.bias.copyFrom(bias);
            conv.diffDst.copyFrom(diffDst);
            conv.run("fwd");
            conv.run("bwd_d");
            conv.run("bwd_w");
            return new float[][] {conv.dst.toFloatArray(), conv.diffSrc.toFloatArray(),
                    conv.diffWeights.toFloatArray(), conv.diffBias.toFloatArray()};
        }
    }

    /**
     * LeNet-5 from seed {@link #SEED} on one batch: {initial parameters, the losses of
     * {@code steps} SGD steps, the first step's logits}.
     */
    float[][] lenetSteps(Peer peer, float[] images, int[] labels, int steps) {
        int batch = labels.length;
        try (Training t = new Training(backend(peer), LeNet5.classic(), input("lenet"), batch, LeNet5.CLASSES)) {
            t.images.copyFrom(images);
            t.labels.copyFrom(labels);
            float[] params = t.model.parameters().values().toFloatArray();
            float[] losses = new float[steps];
            float[] logits = null;
            for (int i = 0; i < steps; i++) {
                Tensor out = t.model.forward(t.images);   // (N, 10)
                if (i == 0) logits = out.toFloatArray();
                losses[i] = t.loss.forward(out, t.labels);
                t.sgd.zeroGrad();
                t.model.backward(t.loss.backward());
                t.sgd.step();
            }
            return new float[][] {params, losses, logits};
        }
    }

    static float[] uniform(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float) (random.nextDouble() * 2 - 1);
        return values;
    }

    private static Tensor uniform(Backend backend, Shape shape, long seed) {
        Tensor t = backend.allocate(shape, DType.F32);
        t.copyFrom(uniform(seed, Math.toIntExact(shape.elements())));
        return t;
    }

    static int[] labels(int n, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(classes);
        return labels;
    }

    private static Tensor labels(Backend backend, int n, int classes, long seed) {
        Tensor t = backend.allocate(Shape.of(n), DType.S32);
        t.copyFrom(labels(n, classes, seed));
        return t;
    }

    @Override public void close() {
        for (AutoCloseable s : states.values()) {
            try {
                s.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + s, e);
            }
        }
        states.clear();
        for (SimdBackend b : simdAt.values()) b.close();
        for (DnnlBackend b : dnnlAt.values()) b.close();
        simd.close();
        dnnl.close();
    }
}
