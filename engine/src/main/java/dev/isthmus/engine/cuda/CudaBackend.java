package dev.isthmus.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.cuda.cuda_h;
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
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code cuda} backend: Isthmus's own CUDA C kernels ({@code engine/src/main/cuda/*.cu},
 * compiled to PTX when the engine was built, see {@link Ptx}), called through the FFM bindings to
 * the CUDA driver API, with every tensor in device memory ({@link CudaStorage}). It mirrors the
 * {@code opencl} backend kernel for kernel: convolution and linear layers are implicit GEMMs with
 * shared-memory tiles; the other ops are one thread per output value.
 *
 * <p>Device: the one named by the system property {@value #DEVICE_PROPERTY} (an ordinal, as
 * {@code nvidia-smi} and the construction error list them), else device 0. Its primary context is
 * retained for the backend's life and made current on every thread that calls in (the driver's
 * current context is per thread; a thread-local remembers which backend bound it last, so this
 * costs one comparison per call). Code outside Isthmus that changes the current context on a
 * thread Isthmus also uses is not supported.
 *
 * <p>Modules: one per op family, JIT-loaded from PTX on first use and kept for the backend's
 * life. Plans look up their functions and set the fixed arguments (geometry, hyperparameters)
 * once; a call sets only its tensors ({@link Cu.Kernel} owns the argument memory).
 *
 * <p>Threads: everything runs on the default stream, in order. A launch's argument memory is
 * shared state, so every launch holds the backend's lock ({@link #lock()}) from its first argument
 * to {@code cuLaunchKernel}; copies hold it too, so a closing backend never frees memory under
 * them. Launches do not wait for the device; copies to and from the host are synchronous and
 * ordered after every earlier launch. Plans and tensors still open when the backend closes are
 * closed (their memory freed) with it.
 */
public final class CudaBackend implements Backend {
    /** Picks a device by its ordinal (0, 1, ... as the driver numbers them). */
    public static final String DEVICE_PROPERTY = "isthmus.cuda.device";

    /** Block size of the one-thread-per-value kernels and of the reductions (gemm.cuh's GROUP). */
    static final int GROUP = 64;

    /** gemm.cuh's output tile (TM = TN) and block side (WG): keep in step with that file. */
    static final int GEMM_TILE = 32, GEMM_GROUP = 8;

    /** The oldest compute capability the PTX (compute_75) runs on, as major * 10 + minor. */
    static final int MIN_COMPUTE_CAPABILITY = 75;

    private static final String CANNOT_RUN = "the cuda backend cannot run here: ";
    private static final AtomicLong IDS = new AtomicLong();
    /** Per thread: the id of the backend whose context this thread made current last (0: none). */
    private static final ThreadLocal<long[]> BOUND = ThreadLocal.withInitial(() -> new long[1]);

    private final long id = IDS.incrementAndGet();
    private final Ptx ptx;
    private final int ordinal, cuDevice, computeCapability, multiprocessors, driverVersion;
    private final long totalMemory;
    private final Device device;
    private final MemorySegment context;
    private final Object lock = new Object();
    private final Map<String, Cu.Module> modules = new HashMap<>();   // guarded by lock
    private final Map<String, Map<String, int[]>> signatures = new HashMap<>();   // per family; guarded by lock
    private final Set<CudaPlan> plans = ConcurrentHashMap.newKeySet();
    private final Set<CudaStorage> storages = ConcurrentHashMap.newKeySet();
    private Cu.Kernel axpy;                                             // made on first use; guarded by lock
    private volatile boolean closed;

    /**
     * Loads the driver, picks a device and retains its primary context.
     *
     * @throws IllegalStateException saying why when the driver (libcuda.so.1), the PTX, a GPU or a
     *         capable GPU is missing, or when {@value #DEVICE_PROPERTY} names no device
     */
    public CudaBackend() {
        Optional<String> unavailable = unavailable();
        if (unavailable.isPresent()) throw new IllegalStateException(CANNOT_RUN + unavailable.get());
        this.ptx = Ptx.packaged();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_LONG);
            Cu.check(cuda_h.cuDriverGetVersion(value), "cuDriverGetVersion");
            this.driverVersion = value.get(JAVA_INT, 0);
            Cu.check(cuda_h.cuDeviceGetCount(value), "cuDeviceGetCount");
            int count = value.get(JAVA_INT, 0);
            this.ordinal = pick(count);
            Cu.check(cuda_h.cuDeviceGet(value, ordinal), "cuDeviceGet", "ordinal " + ordinal);
            this.cuDevice = value.get(JAVA_INT, 0);
            String name = deviceName(a, cuDevice);
            this.computeCapability = attribute(a, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR(), cuDevice) * 10
                    + attribute(a, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR(), cuDevice);
            this.multiprocessors = attribute(a, cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT(), cuDevice);
            Cu.check(cuda_h.cuDeviceTotalMem_v2(value, cuDevice), "cuDeviceTotalMem_v2");
            this.totalMemory = value.get(JAVA_LONG, 0);
            if (computeCapability < MIN_COMPUTE_CAPABILITY) {
                throw new IllegalStateException(CANNOT_RUN + "device [" + ordinal + "] " + name + " is sm_"
                        + computeCapability + ", and the kernels' PTX targets compute_75 (Turing) and newer");
            }
            this.device = new Device(Device.Kind.CUDA, ordinal, name);
            MemorySegment slot = a.allocate(ADDRESS);
            Cu.check(cuda_h.cuDevicePrimaryCtxRetain(slot, cuDevice), "cuDevicePrimaryCtxRetain", name);
            this.context = slot.get(ADDRESS, 0);
        } catch (CudaException e) {
            throw new IllegalStateException(CANNOT_RUN + e.getMessage(), e);
        }
    }

    /**
     * Why no CudaBackend can be created here, or empty; creates nothing. Checks, in order, the
     * driver library (the loader's message, naming libcuda.so.1 and what to install), the packaged
     * PTX, and that the driver initialises and sees a GPU. For reports and test assumptions.
     */
    public static Optional<String> problem() {
        return unavailable().map(p -> CANNOT_RUN + p);
    }

    private static Optional<String> unavailable() {
        Optional<String> driver = NativeLibraries.cudaProblem();
        Optional<String> ptx = Ptx.problem();
        if (driver.isPresent()) return Optional.of(driver.get() + ptx.map(p -> "\nBesides, " + p).orElse(""));
        if (ptx.isPresent()) return ptx;
        int init = cuda_h.cuInit(0);
        if (init == cuda_h.CUDA_ERROR_NO_DEVICE()) {
            return Optional.of("the CUDA driver (libcuda.so.1) loads but sees no GPU (cuInit returned CUDA_ERROR_NO_DEVICE);"
                    + " nvidia-smi shows what the driver sees");
        }
        if (init != cuda_h.CUDA_SUCCESS()) {
            return Optional.of("cuInit returned " + Cu.statusName(init) + " (" + init + "); nvidia-smi shows whether the driver works");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            int status = cuda_h.cuDeviceGetCount(count);
            if (status != cuda_h.CUDA_SUCCESS()) return Optional.of("cuDeviceGetCount returned " + Cu.statusName(status));
            if (count.get(JAVA_INT, 0) == 0) return Optional.of("the CUDA driver sees no GPU");
        }
        return Optional.empty();
    }

    private static int pick(int count) {
        String wanted = System.getProperty(DEVICE_PROPERTY);
        if (wanted == null || wanted.isBlank()) return 0;
        try {
            int ordinal = Integer.parseInt(wanted.trim());
            if (ordinal >= 0 && ordinal < count) return ordinal;
        } catch (NumberFormatException ignored) {
            // reported below with the list
        }
        List<String> all = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_INT);
            for (int i = 0; i < count; i++) {
                Cu.check(cuda_h.cuDeviceGet(value, i), "cuDeviceGet");
                all.add("[" + i + "] " + deviceName(a, value.get(JAVA_INT, 0)));
            }
        }
        throw new IllegalStateException(DEVICE_PROPERTY + "=" + wanted + " names no CUDA device; found " + all);
    }

    private static String deviceName(Arena a, int device) {
        MemorySegment name = a.allocate(256);
        Cu.check(cuda_h.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return name.getString(0).trim();
    }

    private static int attribute(Arena a, int attribute, int device) {
        MemorySegment value = a.allocate(JAVA_INT);
        Cu.check(cuda_h.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute", "attribute " + attribute);
        return value.get(JAVA_INT, 0);
    }

    @Override public BackendKind kind() { return BackendKind.CUDA; }

    @Override public Device device() { return device; }

    /** A zero-filled tensor in new device memory (cuMemAlloc, then cuMemsetD8). */
    @Override public Tensor allocate(Shape shape, DType dtype) {
        if (shape == null || dtype == null) throw new IllegalArgumentException("allocate: shape and dtype are required");
        long bytes = shape.elements() * dtype.byteSize();
        CudaStorage storage;
        synchronized (lock) {
            checkOpen();
            bind();
            long pointer = Cu.alloc(bytes);
            try {
                Cu.check(cuda_h.cuMemsetD8_v2(pointer, (byte) 0, bytes), "cuMemsetD8_v2", bytes + " bytes");
            } catch (RuntimeException e) {
                Cu.free(pointer);
                throw e;
            }
            storage = new CudaStorage(this, pointer, bytes);
            storages.add(storage);
        }
        return Tensor.onStorage(storage, shape, dtype);
    }

    @Override public Conv2dPlan conv2d(Conv2dSpec spec) { return register(new CudaConv2dPlan(this, require(spec))); }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec) { return register(new CudaPool2dPlan(this, require(spec))); }

    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) {
        return register(new CudaEltwisePlan(this, require(kind), elements));
    }

    @Override public LinearPlan linear(LinearSpec spec) { return register(new CudaLinearPlan(this, require(spec))); }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        return register(new CudaSoftmaxCrossEntropyPlan(this, batch, classes));
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) {
        return register(new CudaOptimizerPlan(this, require(spec), elements));
    }

    @Override public LrnPlan lrn(LrnSpec spec) { return register(new CudaLrnPlan(this, require(spec))); }

    @Override public DropoutPlan dropout(long elements, float p) { return register(new CudaDropoutPlan(this, elements, p)); }

    /** y += alpha x, element-wise, on the device. */
    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        if (x == null) throw new IllegalArgumentException("axpy: x is null");
        Checks.elements("axpy", "x", x, x.elements());
        Checks.elements("axpy", "y", y, x.elements());
        synchronized (lock) {
            checkOpen();
            if (axpy == null) axpy = kernel("vector", "axpy", 4);
            tensor(axpy, 0, "axpy", "y", y);
            tensor(axpy, 1, "axpy", "x", x);
            axpy.i64(2, x.elements()).f32(3, alpha).range(x.elements(), GROUP);
            launch(axpy);
        }
    }

    /** Sets every element of a float tensor on this device (cuMemsetD32 with the float's bits). */
    @Override public void fill(Tensor t, float value) {
        if (t == null) throw new IllegalArgumentException("fill: tensor is null");
        Checks.elements("fill", "tensor", t, t.elements());
        synchronized (lock) {
            checkOpen();
            long pointer = storage("fill", "tensor", t).pointer() + t.byteOffset();
            bind();
            Cu.check(cuda_h.cuMemsetD32_v2(pointer, Float.floatToRawIntBits(value), t.elements()), "cuMemsetD32_v2",
                    t.elements() + " floats");
        }
    }

    /** Waits until the device has run everything launched so far (for timing). */
    public void finish() {
        synchronized (lock) {
            checkOpen();
            bind();
            Cu.check(cuda_h.cuCtxSynchronize(), "cuCtxSynchronize", device.toString());
        }
    }

    @Override public String describe() {
        return "cuda: device [" + ordinal + "] " + device.name() + " (sm_" + computeCapability + ", " + multiprocessors + " SMs, "
                + (totalMemory >> 20) + " MiB), driver CUDA " + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ", "
                + ptx.describe() + ", one stream (the default)";
    }

    /**
     * Waits for the device, closes every plan still open, frees every tensor still open (they
     * throw from then on), unloads the modules and releases the primary context. Idempotent.
     */
    @Override public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            try {
                bind();
                Cu.check(cuda_h.cuCtxSynchronize(), "cuCtxSynchronize", device.toString());
                for (CudaPlan p : List.copyOf(plans)) p.close();
                for (CudaStorage s : List.copyOf(storages)) s.release();
                storages.clear();
                axpy = null;
                for (Cu.Module m : modules.values()) m.close();
                modules.clear();
                signatures.clear();
            } finally {
                Cu.check(cuda_h.cuDevicePrimaryCtxRelease_v2(cuDevice), "cuDevicePrimaryCtxRelease_v2", device.toString());
            }
        }
    }

    @Override public String toString() { return "CudaBackend(" + device + ")"; }

    // ---- for plans and storages

    /** The monitor every launch and copy holds. */
    Object lock() { return lock; }

    boolean isClosed() { return closed; }

    void checkOpen() {
        if (closed) throw new IllegalStateException("the cuda backend on " + device + " is closed");
    }

    /** Makes this backend's context current on the calling thread unless it already is. Hold the lock. */
    void bind() {
        long[] bound = BOUND.get();
        if (bound[0] != id) {
            Cu.check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent", device.toString());
            bound[0] = id;
        }
    }

    /** Launches a kernel whose arguments are set, on this backend's context. Hold the lock. */
    void launch(Cu.Kernel kernel) {
        checkOpen();
        bind();
        kernel.launch();
    }

    /**
     * A launch site for {@code entry} of {@code family}'s module, which the plan calls with
     * {@code arguments} arguments; throws if the PTX declares another number.
     */
    Cu.Kernel kernel(String family, String entry, int arguments) {
        synchronized (lock) {
            Cu.Module module = module(family);
            int[] sizes = signatures.get(family).get(entry);
            if (sizes == null) throw new IllegalStateException("PTX module " + family + " has no entry " + entry);
            if (sizes.length != arguments) {
                throw new IllegalStateException(entry + " of PTX module " + family + " takes " + sizes.length
                        + " arguments, the plan passes " + arguments + ": the plan and the .cu file disagree");
            }
            return new Cu.Kernel(entry, module.function(entry), sizes);
        }
    }

    /** The module of one op family, JIT-loaded from its PTX on first use and kept. Hold the lock. */
    private Cu.Module module(String family) {
        checkOpen();
        Cu.Module m = modules.get(family);
        if (m == null) {
            String source = ptx.source(family);
            m = loadModule(family, source);
            modules.put(family, m);
            signatures.put(family, Ptx.signatures(source));
        }
        return m;
    }

    /** Loads PTX on this backend's device; a failure says what the JIT said and what may help. */
    Cu.Module loadModule(String name, String source) {
        synchronized (lock) {
            checkOpen();
            bind();
            try {
                return Cu.Module.load(name, source);
            } catch (CudaException e) {
                String hint = "";
                if (e.status() == cuda_h.CUDA_ERROR_UNSUPPORTED_PTX_VERSION()) {
                    hint = "\nThe driver supports CUDA " + driverVersion / 1000 + "." + driverVersion % 1000 / 10
                            + " and the PTX says ISA " + ptx.isa() + ": update the NVIDIA driver, or rebuild the engine with"
                            + " PTX_ISA set to an older ISA for build-ptx.sh";
                } else if (e.status() == cuda_h.CUDA_ERROR_JIT_COMPILER_NOT_FOUND()) {
                    hint = "\nThe driver has no PTX JIT compiler (libnvidia-ptxjitcompiler): install the full NVIDIA driver";
                }
                if (hint.isEmpty()) throw e;
                throw new CudaException(e.function(), e.status(), e.statusName(), e.detail() + hint);
            }
        }
    }

    /** Device memory owned by a plan (scratch, results); freed by {@link #freeBuffer}. */
    long buffer(long bytes) {
        synchronized (lock) {
            checkOpen();
            bind();
            return Cu.alloc(bytes);
        }
    }

    void freeBuffer(long pointer) {
        synchronized (lock) {
            bind();
            Cu.free(pointer);
        }
    }

    /** The storage of a tensor that must live on this backend's device. */
    CudaStorage storage(String op, String what, Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof CudaStorage cs) || cs.backend() != this) {
            throw new IllegalArgumentException(op + ": " + what + " " + t.shape() + " lives on " + t.device()
                    + ", expected " + device + " of this backend; copy it there with Tensor.copyTo");
        }
        return cs;
    }

    /** Sets pointer argument {@code index} to a tensor's first byte (its storage's base + its byte offset). */
    void tensor(Cu.Kernel k, int index, String op, String what, Tensor t) {
        k.pointer(index, storage(op, what, t).pointer() + t.byteOffset());
    }

    /** Like {@link #tensor} for a U8 workspace read as int32: its byte offset must be a multiple of 4. */
    void intWorkspace(Cu.Kernel k, int index, String op, String what, Tensor t) {
        CudaStorage s = storage(op, what, t);
        if (t.byteOffset() % 4 != 0) {
            throw new IllegalArgumentException(op + ": " + what + " starts at byte " + t.byteOffset()
                    + " of its memory; the cuda backend needs a multiple of 4 (it holds int32 indices)");
        }
        k.pointer(index, s.pointer() + t.byteOffset());
    }

    private <P extends CudaPlan> P register(P plan) {
        plans.add(plan);
        if (closed) {   // closed while planning
            plan.close();
            checkOpen();
        }
        return plan;
    }

    void forget(CudaPlan plan) { plans.remove(plan); }

    void forget(CudaStorage storage) { storages.remove(storage); }

    private static <T> T require(T spec) {
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec;
    }
}
