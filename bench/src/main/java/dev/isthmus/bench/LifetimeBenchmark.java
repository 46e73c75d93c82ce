package dev.isthmus.bench;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Lifetime;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.dnnl.DnnlBackend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the close-during-use guard ({@link Lifetime}: one atomic increment, one volatile read,
 * one atomic decrement per call) costs on the hot path, as a ratio within one run:
 * <ul>
 *   <li>{@code guardAlone}: enter and exit on a lifetime, nothing else;</li>
 *   <li>{@code tinyPool}: the smallest oneDNN call there is, a 2x2 max pooling of (1, 1, 4, 4)
 *       through the façade (guard included): the worst case for the ratio;</li>
 *   <li>{@code lenetConv1}: LeNet's C1 forward (batch 64, 1 -> 6 channels, 5x5), a typical call.</li>
 * </ul>
 * guardAlone / tinyPool bounds the guard's share of any oneDNN call. @Setup checks the pooling.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class LifetimeBenchmark {
    private final Lifetime lifetime = new Lifetime("benchmark");
    private DnnlBackend backend;
    private Pool2dPlan pool;
    private Conv2dPlan conv;
    private Tensor poolSrc, poolDst, convSrc, convWeights, convBias, convDst;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new DnnlBackend();
        pool = backend.pool2d(new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX));
        poolSrc = Tensor.zeros(1, 1, 4, 4);
        poolDst = Tensor.zeros(1, 1, 2, 2);
        float[] x = new float[16];
        for (int i = 0; i < 16; i++) x[i] = i;
        poolSrc.copyFrom(x);
        pool.forwardInference(poolDst, poolSrc);
        float[] y = poolDst.toFloatArray();
        if (y[0] != 5 || y[1] != 7 || y[2] != 13 || y[3] != 15) throw new IllegalStateException("pooling gives " + java.util.Arrays.toString(y));
        Conv2dSpec c1 = new Conv2dSpec(64, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true);
        conv = backend.conv2d(c1);
        convSrc = Tensor.zeros(64, 1, 32, 32);
        convWeights = Tensor.zeros(6, 1, 5, 5);
        convBias = Tensor.zeros(6);
        convDst = Tensor.zeros(64, 6, 28, 28);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        conv.close();
        pool.close();
        for (Tensor t : new Tensor[] {poolSrc, poolDst, convSrc, convWeights, convBias, convDst}) t.close();
        backend.close();
    }

    @Benchmark
    public void guardAlone() {
        lifetime.enter();
        lifetime.exit();
    }

    @Benchmark
    public void tinyPool() {
        pool.forwardInference(poolDst, poolSrc);
    }

    @Benchmark
    public void lenetConv1() {
        conv.forward(convDst, convSrc, convWeights, convBias);
    }
}
