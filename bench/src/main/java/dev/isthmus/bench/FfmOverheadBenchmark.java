package dev.isthmus.bench;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.dnnl.dnnl_exec_arg_t;
import dev.isthmus.bindings.dnnl.dnnl_h;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * What FFM and the Isthmus façade cost per call, on calls too small for the work to hide it:
 * <ul>
 *   <li>{@code emptyDowncall}: libc's {@code abs(int)} through a static final downcall handle:
 *       the price of one FFM downcall and nothing else;</li>
 *   <li>{@code bindingDowncall}: {@code dnnl_get_effective_cpu_isa()} through the generated
 *       bindings (it does a little work of its own: it reads the CPU's features);</li>
 *   <li>{@code rawPrimitive}: a 2x2 max pooling of a (1, 1, 4, 4) tensor built and executed
 *       with the bindings alone (memory descriptors, primitive, {@code dnnl_primitive_execute},
 *       {@code dnnl_stream_wait}), as a C program would;</li>
 *   <li>{@code facadePrimitive}: the same pooling through {@code DnnlBackend.pool2d(..)
 *       .forwardInference}: argument checks, the execution-context pool, data handles.</li>
 * </ul>
 * The difference of the last two is the façade's overhead. @Setup checks both poolings give the
 * same (known) result.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class FfmOverheadBenchmark {
    private Arena arena;
    private MemorySegment engine, stream, primitive, args;
    private MemorySegment src, dst;          // (1, 1, 4, 4) and (1, 1, 2, 2) floats, for the raw path
    private DnnlBackend backend;
    private Pool2dPlan plan;
    private Tensor srcTensor, dstTensor;

    @Setup(Level.Trial)
    public void setUp() {
        NativeLibraries.dnnl();
        arena = Arena.ofShared();
        engine = out(dnnl_h.dnnl_engine_create(slot(), dnnl_h.dnnl_cpu(), 0L), "dnnl_engine_create");
        stream = outOf(s -> dnnl_h.dnnl_stream_create(s, engine, dnnl_h.dnnl_stream_default_flags()), "dnnl_stream_create");
        MemorySegment srcMd = desc(4), dstMd = desc(2);
        MemorySegment pd = outOf(p -> dnnl_h.dnnl_pooling_forward_primitive_desc_create(p, engine,
                dnnl_h.dnnl_forward_inference(), dnnl_h.dnnl_pooling_max(), srcMd, dstMd,
                dims(2, 2), dims(2, 2), dims(0, 0), dims(0, 0), dims(0, 0), MemorySegment.NULL), "dnnl_pooling_forward_primitive_desc_create");
        primitive = outOf(p -> dnnl_h.dnnl_primitive_create(p, pd), "dnnl_primitive_create");
        src = arena.allocate(16 * Float.BYTES, 64);
        dst = arena.allocate(4 * Float.BYTES, 64);
        for (int i = 0; i < 16; i++) src.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
        MemorySegment srcMem = outOf(m -> dnnl_h.dnnl_memory_create(m, srcMd, engine, src), "dnnl_memory_create");
        MemorySegment dstMem = outOf(m -> dnnl_h.dnnl_memory_create(m, dstMd, engine, dst), "dnnl_memory_create");
        args = dnnl_exec_arg_t.allocateArray(2, arena);
        dnnl_exec_arg_t.arg(dnnl_exec_arg_t.asSlice(args, 0), dnnl_h.DNNL_ARG_SRC());
        dnnl_exec_arg_t.memory(dnnl_exec_arg_t.asSlice(args, 0), srcMem);
        dnnl_exec_arg_t.arg(dnnl_exec_arg_t.asSlice(args, 1), dnnl_h.DNNL_ARG_DST());
        dnnl_exec_arg_t.memory(dnnl_exec_arg_t.asSlice(args, 1), dstMem);

        backend = new DnnlBackend();
        plan = backend.pool2d(new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX));
        srcTensor = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1, 1, 4, 4);
        dstTensor = Tensor.zeros(1, 1, 2, 2);

        rawPrimitive();
        facadePrimitive();
        float[] expected = {5, 7, 13, 15};
        for (int i = 0; i < 4; i++) {
            if (dst.getAtIndex(ValueLayout.JAVA_FLOAT, i) != expected[i] || dstTensor.get(i) != expected[i]) {
                throw new IllegalStateException("max pooling gave raw " + dst.getAtIndex(ValueLayout.JAVA_FLOAT, i)
                        + ", facade " + dstTensor.get(i) + " at " + i + ", expected " + expected[i]);
            }
        }
    }

    private static final java.lang.invoke.MethodHandle ABS = java.lang.foreign.Linker.nativeLinker().downcallHandle(
            java.lang.foreign.Linker.nativeLinker().defaultLookup().find("abs").orElseThrow(),
            java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private int value = -42;

    @Benchmark
    public int emptyDowncall() throws Throwable {
        return (int) ABS.invokeExact(value);
    }

    @Benchmark
    public int bindingDowncall() {
        return dnnl_h.dnnl_get_effective_cpu_isa();
    }

    @Benchmark
    public void rawPrimitive() {
        check(dnnl_h.dnnl_primitive_execute(primitive, stream, 2, args), "dnnl_primitive_execute");
        check(dnnl_h.dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    @Benchmark
    public void facadePrimitive() {
        plan.forwardInference(dstTensor, srcTensor);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        srcTensor.close();
        dstTensor.close();
        backend.close();
        // the raw path's handles live until the fork exits: this benchmark runs once per JVM
    }

    private MemorySegment desc(int side) {
        return outOf(m -> dnnl_h.dnnl_memory_desc_create_with_tag(m, 4, dims(1, 1, side, side), dnnl_h.dnnl_f32(), dnnl_h.dnnl_abcd()),
                "dnnl_memory_desc_create_with_tag");
    }

    private MemorySegment dims(long... d) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG, 12);   // dnnl_dims_t: int64_t[12]
        for (int i = 0; i < d.length; i++) s.setAtIndex(ValueLayout.JAVA_LONG, i, d[i]);
        return s;
    }

    private MemorySegment slot() {
        lastSlot = arena.allocate(ValueLayout.ADDRESS);
        return lastSlot;
    }

    private MemorySegment lastSlot;

    private MemorySegment out(int status, String function) {
        check(status, function);
        return lastSlot.get(ValueLayout.ADDRESS, 0);
    }

    private MemorySegment outOf(java.util.function.ToIntFunction<MemorySegment> call, String function) {
        MemorySegment s = arena.allocate(ValueLayout.ADDRESS);
        check(call.applyAsInt(s), function);
        return s.get(ValueLayout.ADDRESS, 0);
    }

    private static void check(int status, String function) {
        if (status != dnnl_h.dnnl_success()) throw new IllegalStateException(function + " returned status " + status);
    }
}
