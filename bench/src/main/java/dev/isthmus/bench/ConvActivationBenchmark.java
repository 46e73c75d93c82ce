package dev.isthmus.bench;

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

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/**
 * A convolution's forward followed by its activation, two ways: {@link #separate}, the
 * convolution then the backend's eltwise plan over its output in place (what an unfused model
 * runs), and {@link #fused}, one plan with the activation fused ({@link Conv2dSpec#activation}:
 * oneDNN's eltwise post-op, the simd backend's per-block epilogue). Backward is not measured:
 * both ways run the same eltwise backward before the same backward passes.
 *
 * <p>Checked in {@code @Setup}: both ways give the same output (bit for bit for ReLU, whose
 * post-op and kernel both compute max(x, 0) of the same convolution).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})   // the last one silences JMH's own sun.misc.Unsafe warnings
public class ConvActivationBenchmark {
    /** dnnl, simd or reference ({@link BackendKind#parse}). */
    @Param("dnnl")
    public String backend;

    /** A name from {@link Problems#DESCRIPTORS}, or a benchdnn descriptor of its own. */
    @Param({"alexnet:conv1", "alexnet:conv2", "alexnet:conv3", "alexnet:conv4", "alexnet:conv5"})
    public String problem;

    /** relu, tanh, scaled_tanh or sigmoid. */
    @Param("relu")
    public String activation;

    private Backend engine;
    private Conv2dPlan plain, fusedPlan;
    private EltwisePlan eltwise;
    private Tensor src, weights, bias, dst;

    @Setup(Level.Trial)
    public void setup() {
        Problems.Problem p = Problems.resolve(problem);
        EltwiseKind kind = EltwiseKind.valueOf(activation.toUpperCase(Locale.ROOT));
        Conv2dSpec spec = p.spec();
        engine = Backends.create(BackendKind.parse(backend));
        System.out.printf(Locale.ROOT, "%n%s + %s on %s [%s]: %s%n", p.name(), activation, backend, engine.describe(), spec);
        plain = engine.conv2d(spec);
        fusedPlan = engine.conv2d(spec.withActivation(kind));
        eltwise = engine.eltwise(kind, spec.dstShape().elements());
        src = Verify.uniform(engine, spec.srcShape(), 1, -1f, 1f);
        weights = Verify.uniform(engine, spec.weightsShape(), 2, -1f, 1f);
        bias = Verify.uniform(engine, spec.biasShape(), 3, -1f, 1f);
        dst = engine.allocate(spec.dstShape(), DType.F32);
        separate();
        float[] expected = dst.toFloatArray();
        fused();
        Verify.requireClose(problem + " + " + activation + " on " + backend + ": fused vs separate", expected,
                dst.toFloatArray(), kind == EltwiseKind.RELU ? 0 : 1e-5);
    }

    @Benchmark
    public void separate() {
        plain.forward(dst, src, weights, bias);
        eltwise.forward(dst, dst);
    }

    @Benchmark
    public void fused() {
        fusedPlan.forward(dst, src, weights, bias);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {dst, bias, weights, src}) if (t != null) t.close();
        for (AutoCloseable c : new AutoCloseable[] {eltwise, fusedPlan, plain}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + c, e);
            }
        }
        if (engine != null) engine.close();
    }
}
