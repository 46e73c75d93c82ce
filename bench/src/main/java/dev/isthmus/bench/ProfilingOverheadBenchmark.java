package dev.isthmus.bench;

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
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.profile.ProfilingBackend;
import dev.isthmus.nn.CrossEntropyLoss;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;
import jdk.jfr.Recording;

/**
 * What profiling costs: {@link LeNetBenchmark}'s training step at batch 64 on a plain backend
 * ({@code plain}), on a {@link ProfilingBackend} over it with no JFR recording running
 * ({@code profiled}: the table's clocks, JFR events built but not committed), and the same while
 * a recording takes every {@code dev.isthmus.PlanExecution} event ({@code recorded}). Plain is the
 * path every program takes unless it asks for profiling: the decorator is not in it at all.
 *
 * <p>Checked in {@code @Setup}: the first steps' losses equal the plain backend's bit for bit.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class ProfilingOverheadBenchmark {
    @Benchmark
    public float trainStep(Step s) {
        return s.step();
    }

    @State(Scope.Benchmark)
    public static class Step {
        @Param({"dnnl", "simd"})
        public String backend;

        /** plain, profiled (decorator, no recording) or recorded (decorator and a JFR recording). */
        @Param({"plain", "profiled", "recorded"})
        public String mode;

        Backend engine;
        Sequential model;
        CrossEntropyLoss loss;
        SGD sgd;
        Tensor images, labels;
        Recording recording;

        @Setup(Level.Trial)
        public void setup() {
            if (!java.util.List.of("plain", "profiled", "recorded").contains(mode)) throw new IllegalArgumentException("mode " + mode);
            Backend plain = Backends.create(BackendKind.parse(backend));
            engine = mode.equals("plain") ? plain : new ProfilingBackend(plain);
            open();
            float[] mine = losses();
            close();
            engine.close();
            engine = Backends.create(BackendKind.parse(backend));
            open();
            float[] expected = losses();
            close();
            engine.close();
            if (!java.util.Arrays.equals(mine, expected)) {
                throw new IllegalStateException(mode + " on " + backend + ": losses " + java.util.Arrays.toString(mine)
                        + " differ from the plain backend's " + java.util.Arrays.toString(expected));
            }
            Backend fresh = Backends.create(BackendKind.parse(backend));
            engine = mode.equals("plain") ? fresh : new ProfilingBackend(fresh);
            open();
            if (mode.equals("recorded")) {
                recording = new Recording();
                recording.enable("dev.isthmus.PlanExecution");
                recording.setToDisk(false);
                recording.setMaxSize(64L << 20);
                recording.start();
            }
        }

        private void open() {
            model = LeNet5.classic().compile(engine, LeNetBenchmark.TRAIN_BATCH, LeNetBenchmark.INPUT, Sequential.Mode.TRAIN, LeNetBenchmark.SEED);
            loss = new CrossEntropyLoss().compile(engine.forLayer("loss"), LeNetBenchmark.TRAIN_BATCH, LeNet5.CLASSES);
            sgd = new SGD(model.parameters(), LeNetBenchmark.LR, LeNetBenchmark.MOMENTUM, 0f, false);
            images = Verify.uniform(engine, LeNetBenchmark.INPUT.prepend(LeNetBenchmark.TRAIN_BATCH), 11, -1f, 1f);
            labels = Verify.labels(engine, LeNetBenchmark.TRAIN_BATCH, LeNet5.CLASSES, 12);
        }

        private float[] losses() {
            float[] l = new float[LeNetBenchmark.CHECK_STEPS];
            for (int i = 0; i < l.length; i++) l[i] = step();
            return l;
        }

        float step() {
            float l = loss.forward(model.forward(images), labels);
            sgd.zeroGrad();
            model.backward(loss.backward());
            sgd.step();
            return l;
        }

        private void close() {
            labels.close();
            images.close();
            sgd.close();
            loss.close();
            model.close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (recording != null) recording.close();
            close();
            engine.close();
        }
    }
}
