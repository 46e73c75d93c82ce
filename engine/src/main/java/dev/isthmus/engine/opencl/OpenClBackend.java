package dev.isthmus.engine.opencl;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Storage;
import dev.isthmus.engine.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code opencl} backend: Isthmus's own OpenCL C kernels (the {@code .cl} files beside this
 * class in the resources), called through the FFM bindings to the ICD loader, with every tensor
 * in a device buffer ({@link OpenClStorage}). Convolution and linear layers are implicit GEMMs
 * with local-memory tiles; the other ops are one work-item per output value.
 *
 * <p>Device: the one named by the system property {@value #DEVICE_PROPERTY} (an index into the
 * list of every device of every platform, as {@link #describe()} and the construction error
 * print it), else the first GPU, else the first device of any type (PoCL's CPU device).
 *
 * <p>Programs: one per op family, built on first use and kept for the backend's life (PoCL takes
 * over a second per cold build). Plans create their own {@code cl_kernel}s at planning time and
 * set the fixed arguments (geometry, hyperparameters) once; a call sets only its tensors.
 *
 * <p>Threads: one in-order command queue. A {@code cl_kernel}'s arguments are shared state, so
 * every launch holds the queue's monitor ({@link #lock()}) from its first {@code clSetKernelArg}
 * to its {@code clEnqueueNDRangeKernel}: plans may be executed from several threads, and their
 * work runs one launch after another in the order the lock was taken. Launches do not wait for
 * the device; copies to and from the host are blocking and ordered after every earlier launch.
 * Plans still open when the backend closes are closed with it.
 */
public final class OpenClBackend implements Backend {
    /** Picks a device by its index in the list of every device of every platform. */
    public static final String DEVICE_PROPERTY = "isthmus.opencl.device";

    /** Work-group size of the one-item-per-value kernels. */
    static final int GROUP = 64;

    /** gemm.clh's output tile (TM = TN) and work-group side (WG): keep in step with that file. */
    static final int GEMM_TILE = 32, GEMM_GROUP = 8;

    private static final String RESOURCES = "/dev/isthmus/engine/opencl/";

    private final Cl.DeviceInfo info;
    private final Device device;
    private final Cl.Context context;
    private final Cl.Queue queue;
    private final Map<String, Cl.Program> programs = new HashMap<>();   // guarded by programs
    private final Set<OpenClPlan> plans = ConcurrentHashMap.newKeySet();
    private final MemorySegment fillPattern = Arena.ofAuto().allocate(4, 4);   // guarded by lock()
    private Cl.Kernel axpy;                                                      // built on first use; guarded by lock()
    private volatile boolean closed;

    /**
     * Loads the ICD loader, picks a device and creates a context and a queue on it.
     *
     * @throws IllegalStateException saying what was found when there is no OpenCL library,
     *         platform or device, or when {@value #DEVICE_PROPERTY} names no device
     */
    public OpenClBackend() {
        var problem = NativeLibraries.openClProblem();
        if (problem.isPresent()) throw new IllegalStateException("the opencl backend cannot run here: " + problem.get());
        List<Cl.DeviceInfo> all = Cl.devices();
        if (all.isEmpty()) {
            throw new IllegalStateException("the opencl backend cannot run here: the OpenCL ICD loader finds no platform"
                    + " with a device; install a driver (pocl-opencl-icd for the CPU, or a GPU vendor's ICD)");
        }
        this.info = pick(all);
        this.device = new Device(Device.Kind.OPENCL, info.index(), info.name());
        this.context = Cl.Context.create(info);
        try {
            this.queue = Cl.Queue.create(context);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    private static Cl.DeviceInfo pick(List<Cl.DeviceInfo> all) {
        String wanted = System.getProperty(DEVICE_PROPERTY);
        if (wanted != null && !wanted.isBlank()) {
            try {
                int index = Integer.parseInt(wanted.trim());
                if (index >= 0 && index < all.size()) return all.get(index);
            } catch (NumberFormatException ignored) {
                // reported below with the list
            }
            throw new IllegalStateException(DEVICE_PROPERTY + "=" + wanted + " names no OpenCL device; found " + all);
        }
        for (Cl.DeviceInfo d : all) if (d.isGpu()) return d;
        return all.get(0);
    }

    @Override public BackendKind kind() { return BackendKind.OPENCL; }

    @Override public Device device() { return device; }

    /** A zero-filled tensor in a new device buffer. */
    @Override public Tensor allocate(Shape shape, DType dtype) {
        checkOpen();
        if (shape == null || dtype == null) throw new IllegalArgumentException("allocate: shape and dtype are required");
        long bytes = shape.elements() * dtype.byteSize();
        Cl.Buffer buffer = Cl.Buffer.create(context, bytes);
        try {
            synchronized (lock()) {
                fillPattern.set(ValueLayout.JAVA_INT, 0, 0);
                // the pattern size must divide the size: whole words where it can, bytes for odd U8 tensors
                queue.fill(buffer, bytes % 4 == 0 ? fillPattern : fillPattern.asSlice(0, 1), 0, bytes);
            }
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return Tensor.onStorage(new OpenClStorage(this, buffer), shape, dtype);
    }

    @Override public Conv2dPlan conv2d(Conv2dSpec spec) { return register(new OpenClConv2dPlan(this, require(spec))); }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec) { return register(new OpenClPool2dPlan(this, require(spec))); }

    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) {
        return register(new OpenClEltwisePlan(this, require(kind), elements));
    }

    @Override public LinearPlan linear(LinearSpec spec) { return register(new OpenClLinearPlan(this, require(spec))); }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        return register(new OpenClSoftmaxCrossEntropyPlan(this, batch, classes));
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) {
        return register(new OpenClOptimizerPlan(this, require(spec), elements));
    }

    @Override public LrnPlan lrn(LrnSpec spec) { return register(new OpenClLrnPlan(this, require(spec))); }

    @Override public DropoutPlan dropout(long elements, float p) { return register(new OpenClDropoutPlan(this, elements, p)); }

    /** y += alpha x, element-wise, on the device. */
    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        if (x == null) throw new IllegalArgumentException("axpy: x is null");
        Checks.elements("axpy", "x", x, x.elements());
        Checks.elements("axpy", "y", y, x.elements());
        checkOpen();
        synchronized (lock()) {
            if (axpy == null) axpy = Cl.Kernel.create(program("vector"), "axpy");
            tensor(axpy, 0, "axpy", "y", y);
            tensor(axpy, 2, "axpy", "x", x);
            axpy.i64(4, x.elements()).f32(5, alpha).range(x.elements(), GROUP);
            queue.run(axpy);
        }
    }

    /** Sets every element of a float tensor on this device (clEnqueueFillBuffer over its bytes). */
    @Override public void fill(Tensor t, float value) {
        if (t == null) throw new IllegalArgumentException("fill: tensor is null");
        Checks.elements("fill", "tensor", t, t.elements());
        checkOpen();
        OpenClStorage s = storage("fill", "tensor", t);
        synchronized (lock()) {
            fillPattern.set(ValueLayout.JAVA_FLOAT, 0, value);
            queue.fill(s.buffer(), fillPattern, t.byteOffset(), t.byteSize());
        }
    }

    /** Waits until the device has run everything enqueued so far (for timing). */
    public void finish() {
        checkOpen();
        queue.finish();
    }

    @Override public String describe() {
        return "opencl: platform " + info.platformName() + " (" + info.platformVersion() + "), device [" + info.index() + "] "
                + info.name() + " (" + info.typeName() + ", " + info.version() + ", " + info.cVersion() + ", "
                + info.computeUnits() + " compute units, " + (info.globalMemory() >> 20) + " MiB, work groups up to "
                + info.maxWorkGroupSize() + "), one in-order queue";
    }

    /** Closes every plan still open, the kernels and programs, the queue and the context. Idempotent. */
    @Override public void close() {
        if (closed) return;
        synchronized (lock()) {
            if (closed) return;
            closed = true;
            for (OpenClPlan p : List.copyOf(plans)) p.close();
            if (axpy != null) axpy.close();
            synchronized (programs) {
                for (Cl.Program p : programs.values()) p.close();
                programs.clear();
            }
        }
        try {
            queue.finish();
        } finally {
            queue.close();
            context.close();
        }
    }

    @Override public String toString() { return "OpenClBackend(" + device + ")"; }

    // ---- for plans and storages

    /** The monitor every launch holds while it sets kernel arguments and enqueues. */
    Object lock() { return queue; }

    Cl.Queue queue() {
        checkOpen();
        return queue;
    }

    Cl.Context context() { return context; }

    boolean isClosed() { return closed; }

    void checkOpen() {
        if (closed) throw new IllegalStateException("the opencl backend on " + device + " is closed");
    }

    /** The program of one op family, built from its resource files on first use and kept. */
    Cl.Program program(String family) {
        checkOpen();
        synchronized (programs) {
            Cl.Program p = programs.get(family);
            if (p == null) {
                String[] files = switch (family) {
                    case "conv" -> new String[] {"gemm.clh", "conv.cl"};
                    case "linear" -> new String[] {"gemm.clh", "linear.cl"};
                    default -> new String[] {family + ".cl"};
                };
                String[] sources = new String[files.length];
                for (int i = 0; i < files.length; i++) sources[i] = resource(files[i]);
                p = buildProgram(family, sources);
                programs.put(family, p);
            }
            return p;
        }
    }

    /** Builds a program from source for this backend's device; a failure throws with the compiler's log. */
    Cl.Program buildProgram(String name, String... sources) {
        checkOpen();
        return Cl.Program.build(context, name, "", sources);
    }

    private static String resource(String file) {
        try (InputStream in = OpenClBackend.class.getResourceAsStream(RESOURCES + file)) {
            if (in == null) throw new IllegalStateException("kernel source " + RESOURCES + file + " is missing from the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + RESOURCES + file, e);
        }
    }

    /** The storage of a tensor that must live on this backend's device. */
    OpenClStorage storage(String op, String what, Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof OpenClStorage cs) || cs.backend() != this) {
            throw new IllegalArgumentException(op + ": " + what + " " + t.shape() + " lives on " + t.device()
                    + ", expected " + device + " of this backend; copy it there with Tensor.copyTo");
        }
        return cs;
    }

    /** Sets arguments {@code index} (the base buffer) and {@code index + 1} (the element offset) to a tensor. */
    void tensor(Cl.Kernel k, int index, String op, String what, Tensor t) {
        OpenClStorage s = storage(op, what, t);
        k.mem(index, s.buffer()).i64(index + 1, t.byteOffset() / t.dtype().byteSize());
    }

    /** Like {@link #tensor} for a U8 workspace read as int32: its byte offset must be a multiple of 4. */
    void intWorkspace(Cl.Kernel k, int index, String op, String what, Tensor t) {
        OpenClStorage s = storage(op, what, t);
        if (t.byteOffset() % 4 != 0) {
            throw new IllegalArgumentException(op + ": " + what + " starts at byte " + t.byteOffset()
                    + " of its buffer; the opencl backend needs a multiple of 4 (it holds int32 indices)");
        }
        k.mem(index, s.buffer()).i64(index + 1, t.byteOffset() / 4);
    }

    /** Sets arguments {@code index} and {@code index + 1} to a NULL buffer and offset 0 (an absent bias). */
    static void none(Cl.Kernel k, int index) {
        k.mem(index, null).i64(index + 1, 0);
    }

    private <P extends OpenClPlan> P register(P plan) {
        plans.add(plan);
        if (closed) {   // closed while planning
            plan.close();
            checkOpen();
        }
        return plan;
    }

    void forget(OpenClPlan plan) { plans.remove(plan); }

    private static <T> T require(T spec) {
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec;
    }
}
