package dev.isthmus.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * One convolution's forward, backward-data and backward-weights passes through a backend's
 * {@link Conv2dPlan}, for AlexNet's and LeNet-5's layers ({@link Problems}). The plan and
 * seeded random tensors are made once per trial; before anything is measured, one execution
 * of the pass the trial measures is compared with the reference backend on the batch's first
 * and last samples ({@link #checkAgainstReference}), and a mismatch fails the trial.
 *
 * <p>The score is time per pass; {@link ConvReport} runs this class and adds GFLOP/s
 * ({@link Conv2dSpec#flops()}, the same for all three passes). Not measured here: reorders
 * between layers, the activation, anything of a whole network ({@link LeNetBenchmark} is that).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})   // the last one silences JMH's own sun.misc.Unsafe warnings
public class ConvBenchmark {
    /** dnnl, simd or reference ({@link BackendKind#parse}). */
    @Param("dnnl")
    public String backend;

    /** A name from {@link Problems#DESCRIPTORS}, or a benchdnn descriptor of its own. */
    @Param({"alexnet:conv1", "alexnet:conv2", "alexnet:conv2-g1", "alexnet:conv3", "alexnet:conv4", "alexnet:conv5",
            "lenet:c1", "lenet:c3", "lenet:c5"})
    public String problem;

    /** max |actual - reference| / max |reference| allowed in the check: float32 sums of up to a few thousand terms. */
    static final double TOLERANCE = 1e-4;

    private Backend engine;
    private Conv2dSpec spec;
    private Conv2dPlan plan;
    private Tensor src, dst;                 // (N, IC, IH, IW), (N, OC, OH, OW)
    private Tensor weights, bias;            // (OC, IC/G, KH, KW), (OC)
    private Tensor diffSrc, diffDst;         // (N, IC, IH, IW), (N, OC, OH, OW)
    private Tensor diffWeights, diffBias;    // (OC, IC/G, KH, KW), (OC)

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        Problems.Problem p = Problems.resolve(problem);
        spec = p.spec();
        engine = Backends.create(BackendKind.parse(backend));
        System.out.printf(Locale.ROOT, "%n%s on %s [%s]: %s, %.3f GFLOP per pass%n",
                p.name(), backend, engine.describe(), spec, spec.flops() / 1e9);
        plan = engine.conv2d(spec);
        src = Verify.uniform(engine, spec.srcShape(), 1, -1f, 1f);
        weights = Verify.uniform(engine, spec.weightsShape(), 2, -1f, 1f);
        bias = Verify.uniform(engine, spec.biasShape(), 3, -1f, 1f);
        diffDst = Verify.uniform(engine, spec.dstShape(), 4, -1f, 1f);
        dst = engine.allocate(spec.dstShape(), DType.F32);
        diffSrc = engine.allocate(spec.srcShape(), DType.F32);
        diffWeights = engine.allocate(spec.weightsShape(), DType.F32);
        diffBias = engine.allocate(spec.biasShape(), DType.F32);
        String benchmark = params.getBenchmark();
        String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
        // planning is checked by what the plan then computes: the forward, against the reference
        checkAgainstReference(method.equals("planCreation") ? "forward" : method);
    }

    /**
     * Creating and closing a plan for the problem: the one-time cost a layer pays at compile
     * (oneDNN: descriptors, implementation search, JIT code generation; simd: scratch sizing).
     */
    @Benchmark
    public void planCreation() {
        engine.conv2d(spec).close();
    }

    @Benchmark
    public void forward() {
        plan.forward(dst, src, weights, bias);
    }

    @Benchmark
    public void backwardData() {
        plan.backwardData(diffSrc, diffDst, weights);
    }

    @Benchmark
    public void backwardWeights() {
        plan.backwardWeights(diffWeights, diffBias, diffDst, src);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {diffBias, diffWeights, diffSrc, dst, diffDst, bias, weights, src}) {
            if (t != null) t.close();
        }
        if (plan != null) plan.close();
        if (engine != null) engine.close();
    }

    /**
     * Runs {@code pass} (the benchmark method's name) once on the full batch and compares it with
     * the reference backend run on the first and the last sample only (the reference is scalar
     * and single-threaded: the whole AlexNet batch would take minutes). Forward and backward-data
     * outputs of a sample depend on that sample alone; for backward-weights, which sums over the
     * batch, the plan runs on a diffDst that is zero outside those two samples. Each trial
     * measures one pass and checks that pass, so every pass is checked before it is timed.
     */
    void checkAgainstReference(String pass) {
        int n = spec.batch();
        int[] picked = n == 1 ? new int[] {0} : new int[] {0, n - 1};
        Conv2dSpec few = new Conv2dSpec(picked.length, spec.inChannels(), spec.inHeight(), spec.inWidth(),
                spec.outChannels(), spec.window(), spec.groups(), spec.hasBias());
        String what = problem + " " + pass + " on " + backend + " vs reference, samples " + Arrays.toString(picked);
        long started = System.nanoTime();
        try (Backend reference = Backends.create(BackendKind.REFERENCE);
             Conv2dPlan referencePlan = reference.conv2d(few);
             Tensor fewSrc = Tensor.of(Verify.samples(src, picked), few.srcShape().dims());            // (2, IC, IH, IW)
             Tensor fewDiffDst = Tensor.of(Verify.samples(diffDst, picked), few.dstShape().dims());  // (2, OC, OH, OW)
             Tensor hostWeights = Tensor.of(weights.toFloatArray(), spec.weightsShape().dims());      // host copies: the
             Tensor hostBias = Tensor.of(bias.toFloatArray(), spec.biasShape().dims())) {             // backend may be a GPU
            switch (pass) {
                case "forward" -> {
                    try (Tensor expected = reference.allocate(few.dstShape(), DType.F32)) {
                        plan.forward(dst, src, weights, bias);
                        referencePlan.forward(expected, fewSrc, hostWeights, hostBias);
                        Verify.requireClose(what, expected.toFloatArray(), Verify.samples(dst, picked), TOLERANCE);
                    }
                }
                case "backwardData" -> {
                    try (Tensor expected = reference.allocate(few.srcShape(), DType.F32)) {
                        plan.backwardData(diffSrc, diffDst, weights);
                        referencePlan.backwardData(expected, fewDiffDst, hostWeights);
                        Verify.requireClose(what, expected.toFloatArray(), Verify.samples(diffSrc, picked), TOLERANCE);
                    }
                }
                case "backwardWeights" -> {
                    try (Tensor expectedWeights = reference.allocate(spec.weightsShape(), DType.F32);
                         Tensor expectedBias = reference.allocate(spec.biasShape(), DType.F32);
                         Tensor sparseDiffDst = engine.allocate(spec.dstShape(), DType.F32)) {   // zeros
                        Shape sample = spec.dstShape().dropFirst();
                        float[] kept = fewDiffDst.toFloatArray();
                        int per = Math.toIntExact(sample.elements());
                        for (int j = 0; j < picked.length; j++) {
                            sparseDiffDst.view((long) picked[j] * per, sample)
                                    .copyFrom(Arrays.copyOfRange(kept, j * per, (j + 1) * per));
                        }
                        plan.backwardWeights(diffWeights, diffBias, sparseDiffDst, src);
                        referencePlan.backwardWeights(expectedWeights, expectedBias, fewDiffDst, fewSrc);
                        Verify.requireClose(what + " (weights)", expectedWeights.toFloatArray(),
                                diffWeights.toFloatArray(), TOLERANCE);
                        Verify.requireClose(what + " (bias)", expectedBias.toFloatArray(), diffBias.toFloatArray(), TOLERANCE);
                    }
                }
                default -> throw new IllegalStateException("no check for benchmark method " + pass);
            }
        }
        System.out.printf(Locale.ROOT, "check passed in %.1f s%n", (System.nanoTime() - started) / 1e9);
    }
}
