package dev.isthmus.engine.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.isthmus.bindings.opencl.cl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The thin façade over {@code cl_h}: every status is checked and becomes an
 * {@link OpenClException} naming the C function and the status's C name; every OpenCL object
 * is an {@code AutoCloseable} handle whose {@code close} calls the matching {@code clRelease*}.
 * No op logic lives here.
 *
 * <p>Per-call memory: a {@link Kernel} owns a small scratch segment for argument values and
 * work sizes, so setting arguments and enqueueing allocate nothing. That scratch is shared
 * state, like the kernel's arguments themselves: callers hold the backend's queue lock.
 */
final class Cl {
    private Cl() {}

    /** cl_ext.h's CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver at all. */
    static final int PLATFORM_NOT_FOUND_KHR = -1001;

    private static final String[] ERROR_NAMES = new String[80];   // index -status

    static {
        name(cl_h.CL_SUCCESS(), "CL_SUCCESS");
        name(cl_h.CL_DEVICE_NOT_FOUND(), "CL_DEVICE_NOT_FOUND");
        name(cl_h.CL_DEVICE_NOT_AVAILABLE(), "CL_DEVICE_NOT_AVAILABLE");
        name(cl_h.CL_COMPILER_NOT_AVAILABLE(), "CL_COMPILER_NOT_AVAILABLE");
        name(cl_h.CL_MEM_OBJECT_ALLOCATION_FAILURE(), "CL_MEM_OBJECT_ALLOCATION_FAILURE");
        name(cl_h.CL_OUT_OF_RESOURCES(), "CL_OUT_OF_RESOURCES");
        name(cl_h.CL_OUT_OF_HOST_MEMORY(), "CL_OUT_OF_HOST_MEMORY");
        name(cl_h.CL_PROFILING_INFO_NOT_AVAILABLE(), "CL_PROFILING_INFO_NOT_AVAILABLE");
        name(cl_h.CL_MEM_COPY_OVERLAP(), "CL_MEM_COPY_OVERLAP");
        name(cl_h.CL_IMAGE_FORMAT_MISMATCH(), "CL_IMAGE_FORMAT_MISMATCH");
        name(cl_h.CL_IMAGE_FORMAT_NOT_SUPPORTED(), "CL_IMAGE_FORMAT_NOT_SUPPORTED");
        name(cl_h.CL_BUILD_PROGRAM_FAILURE(), "CL_BUILD_PROGRAM_FAILURE");
        name(cl_h.CL_MAP_FAILURE(), "CL_MAP_FAILURE");
        name(cl_h.CL_MISALIGNED_SUB_BUFFER_OFFSET(), "CL_MISALIGNED_SUB_BUFFER_OFFSET");
        name(cl_h.CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST(), "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST");
        name(cl_h.CL_COMPILE_PROGRAM_FAILURE(), "CL_COMPILE_PROGRAM_FAILURE");
        name(cl_h.CL_LINKER_NOT_AVAILABLE(), "CL_LINKER_NOT_AVAILABLE");
        name(cl_h.CL_LINK_PROGRAM_FAILURE(), "CL_LINK_PROGRAM_FAILURE");
        name(cl_h.CL_DEVICE_PARTITION_FAILED(), "CL_DEVICE_PARTITION_FAILED");
        name(cl_h.CL_KERNEL_ARG_INFO_NOT_AVAILABLE(), "CL_KERNEL_ARG_INFO_NOT_AVAILABLE");
        name(cl_h.CL_INVALID_VALUE(), "CL_INVALID_VALUE");
        name(cl_h.CL_INVALID_DEVICE_TYPE(), "CL_INVALID_DEVICE_TYPE");
        name(cl_h.CL_INVALID_PLATFORM(), "CL_INVALID_PLATFORM");
        name(cl_h.CL_INVALID_DEVICE(), "CL_INVALID_DEVICE");
        name(cl_h.CL_INVALID_CONTEXT(), "CL_INVALID_CONTEXT");
        name(cl_h.CL_INVALID_QUEUE_PROPERTIES(), "CL_INVALID_QUEUE_PROPERTIES");
        name(cl_h.CL_INVALID_COMMAND_QUEUE(), "CL_INVALID_COMMAND_QUEUE");
        name(cl_h.CL_INVALID_HOST_PTR(), "CL_INVALID_HOST_PTR");
        name(cl_h.CL_INVALID_MEM_OBJECT(), "CL_INVALID_MEM_OBJECT");
        name(cl_h.CL_INVALID_IMAGE_FORMAT_DESCRIPTOR(), "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR");
        name(cl_h.CL_INVALID_IMAGE_SIZE(), "CL_INVALID_IMAGE_SIZE");
        name(cl_h.CL_INVALID_SAMPLER(), "CL_INVALID_SAMPLER");
        name(cl_h.CL_INVALID_BINARY(), "CL_INVALID_BINARY");
        name(cl_h.CL_INVALID_BUILD_OPTIONS(), "CL_INVALID_BUILD_OPTIONS");
        name(cl_h.CL_INVALID_PROGRAM(), "CL_INVALID_PROGRAM");
        name(cl_h.CL_INVALID_PROGRAM_EXECUTABLE(), "CL_INVALID_PROGRAM_EXECUTABLE");
        name(cl_h.CL_INVALID_KERNEL_NAME(), "CL_INVALID_KERNEL_NAME");
        name(cl_h.CL_INVALID_KERNEL_DEFINITION(), "CL_INVALID_KERNEL_DEFINITION");
        name(cl_h.CL_INVALID_KERNEL(), "CL_INVALID_KERNEL");
        name(cl_h.CL_INVALID_ARG_INDEX(), "CL_INVALID_ARG_INDEX");
        name(cl_h.CL_INVALID_ARG_VALUE(), "CL_INVALID_ARG_VALUE");
        name(cl_h.CL_INVALID_ARG_SIZE(), "CL_INVALID_ARG_SIZE");
        name(cl_h.CL_INVALID_KERNEL_ARGS(), "CL_INVALID_KERNEL_ARGS");
        name(cl_h.CL_INVALID_WORK_DIMENSION(), "CL_INVALID_WORK_DIMENSION");
        name(cl_h.CL_INVALID_WORK_GROUP_SIZE(), "CL_INVALID_WORK_GROUP_SIZE");
        name(cl_h.CL_INVALID_WORK_ITEM_SIZE(), "CL_INVALID_WORK_ITEM_SIZE");
        name(cl_h.CL_INVALID_GLOBAL_OFFSET(), "CL_INVALID_GLOBAL_OFFSET");
        name(cl_h.CL_INVALID_EVENT_WAIT_LIST(), "CL_INVALID_EVENT_WAIT_LIST");
        name(cl_h.CL_INVALID_EVENT(), "CL_INVALID_EVENT");
        name(cl_h.CL_INVALID_OPERATION(), "CL_INVALID_OPERATION");
        name(cl_h.CL_INVALID_GL_OBJECT(), "CL_INVALID_GL_OBJECT");
        name(cl_h.CL_INVALID_BUFFER_SIZE(), "CL_INVALID_BUFFER_SIZE");
        name(cl_h.CL_INVALID_MIP_LEVEL(), "CL_INVALID_MIP_LEVEL");
        name(cl_h.CL_INVALID_GLOBAL_WORK_SIZE(), "CL_INVALID_GLOBAL_WORK_SIZE");
        name(cl_h.CL_INVALID_PROPERTY(), "CL_INVALID_PROPERTY");
        name(cl_h.CL_INVALID_IMAGE_DESCRIPTOR(), "CL_INVALID_IMAGE_DESCRIPTOR");
        name(cl_h.CL_INVALID_COMPILER_OPTIONS(), "CL_INVALID_COMPILER_OPTIONS");
        name(cl_h.CL_INVALID_LINKER_OPTIONS(), "CL_INVALID_LINKER_OPTIONS");
        name(cl_h.CL_INVALID_DEVICE_PARTITION_COUNT(), "CL_INVALID_DEVICE_PARTITION_COUNT");
        name(cl_h.CL_INVALID_PIPE_SIZE(), "CL_INVALID_PIPE_SIZE");
        name(cl_h.CL_INVALID_DEVICE_QUEUE(), "CL_INVALID_DEVICE_QUEUE");
        name(cl_h.CL_INVALID_SPEC_ID(), "CL_INVALID_SPEC_ID");
        name(cl_h.CL_MAX_SIZE_RESTRICTION_EXCEEDED(), "CL_MAX_SIZE_RESTRICTION_EXCEEDED");
    }

    private static void name(int status, String name) { ERROR_NAMES[-status] = name; }

    /** The C name of a {@code cl_int} status, e.g. {@code CL_INVALID_VALUE}; unknown codes as a number. */
    static String statusName(int status) {
        if (status == PLATFORM_NOT_FOUND_KHR) return "CL_PLATFORM_NOT_FOUND_KHR";
        if (status <= 0 && -status < ERROR_NAMES.length && ERROR_NAMES[-status] != null) return ERROR_NAMES[-status];
        return "unknown OpenCL status " + status;
    }

    static void check(int status, String function) { check(status, function, null); }

    static void check(int status, String function, String detail) {
        if (status != cl_h.CL_SUCCESS()) throw new OpenClException(function, status, detail);
    }

    // ---- platforms and devices

    /** One device of one platform, with the facts {@code describe()} and the selection need. */
    record DeviceInfo(int index, MemorySegment platform, MemorySegment device, String platformName, String platformVersion,
                      String name, String version, String cVersion, long type, int computeUnits, long globalMemory,
                      long maxWorkGroupSize) {
        boolean isGpu() { return (type & cl_h.CL_DEVICE_TYPE_GPU()) != 0; }

        String typeName() {
            if (isGpu()) return "GPU";
            if ((type & cl_h.CL_DEVICE_TYPE_CPU()) != 0) return "CPU";
            if ((type & cl_h.CL_DEVICE_TYPE_ACCELERATOR()) != 0) return "accelerator";
            return "device type " + type;
        }

        @Override public String toString() {
            return "[" + index + "] " + name + " (" + typeName() + ", " + cVersion + ", " + computeUnits
                    + " compute units) on " + platformName + " (" + platformVersion + ")";
        }
    }

    /**
     * Every device of every platform, numbered in platform order then device order; empty
     * when the ICD loader finds no platform.
     */
    static List<DeviceInfo> devices() {
        List<DeviceInfo> all = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            int status = cl_h.clGetPlatformIDs(0, MemorySegment.NULL, count);
            if (status == PLATFORM_NOT_FOUND_KHR) return all;
            check(status, "clGetPlatformIDs");
            int platforms = count.get(JAVA_INT, 0);
            if (platforms == 0) return all;
            MemorySegment ids = a.allocate(ADDRESS, platforms);
            check(cl_h.clGetPlatformIDs(platforms, ids, MemorySegment.NULL), "clGetPlatformIDs");
            long allTypes = Integer.toUnsignedLong(cl_h.CL_DEVICE_TYPE_ALL());
            for (int p = 0; p < platforms; p++) {
                MemorySegment platform = ids.getAtIndex(ADDRESS, p);
                String platformName = platformString(platform, cl_h.CL_PLATFORM_NAME());
                String platformVersion = platformString(platform, cl_h.CL_PLATFORM_VERSION());
                status = cl_h.clGetDeviceIDs(platform, allTypes, 0, MemorySegment.NULL, count);
                if (status == cl_h.CL_DEVICE_NOT_FOUND()) continue;
                check(status, "clGetDeviceIDs", "platform " + platformName
                        + (status == -1 ? " (with PoCL, an unwritable cache: set POCL_CACHE_DIR)" : ""));
                int n = count.get(JAVA_INT, 0);
                MemorySegment devs = a.allocate(ADDRESS, Math.max(n, 1));
                check(cl_h.clGetDeviceIDs(platform, allTypes, n, devs, MemorySegment.NULL), "clGetDeviceIDs", platformName);
                for (int d = 0; d < n; d++) {
                    MemorySegment dev = devs.getAtIndex(ADDRESS, d);
                    all.add(new DeviceInfo(all.size(), platform, dev, platformName, platformVersion,
                            deviceString(dev, cl_h.CL_DEVICE_NAME()), deviceString(dev, cl_h.CL_DEVICE_VERSION()),
                            deviceString(dev, cl_h.CL_DEVICE_OPENCL_C_VERSION()), deviceLong(dev, cl_h.CL_DEVICE_TYPE()),
                            deviceInt(dev, cl_h.CL_DEVICE_MAX_COMPUTE_UNITS()), deviceLong(dev, cl_h.CL_DEVICE_GLOBAL_MEM_SIZE()),
                            deviceLong(dev, cl_h.CL_DEVICE_MAX_WORK_GROUP_SIZE())));
                }
            }
        }
        return all;
    }

    private static String platformString(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(cl_h.clGetPlatformInfo(id, key, 0L, MemorySegment.NULL, size), "clGetPlatformInfo");
            MemorySegment value = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check(cl_h.clGetPlatformInfo(id, key, value.byteSize(), value, MemorySegment.NULL), "clGetPlatformInfo");
            return value.getString(0).trim();
        }
    }

    private static String deviceString(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(cl_h.clGetDeviceInfo(id, key, 0L, MemorySegment.NULL, size), "clGetDeviceInfo");
            MemorySegment value = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check(cl_h.clGetDeviceInfo(id, key, value.byteSize(), value, MemorySegment.NULL), "clGetDeviceInfo");
            return value.getString(0).trim();
        }
    }

    /** A cl_uint property. */
    private static int deviceInt(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_INT);
            check(cl_h.clGetDeviceInfo(id, key, 4L, value, MemorySegment.NULL), "clGetDeviceInfo");
            return value.get(JAVA_INT, 0);
        }
    }

    /** A size_t, cl_ulong or cl_bitfield property. */
    private static long deviceLong(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_LONG);
            check(cl_h.clGetDeviceInfo(id, key, 8L, value, MemorySegment.NULL), "clGetDeviceInfo");
            return value.get(JAVA_LONG, 0);
        }
    }

    // ---- handles

    /** The base of every handle: released once, unusable after. */
    abstract static class Handle implements AutoCloseable {
        private final MemorySegment handle;
        final String what;
        private volatile boolean closed;

        Handle(MemorySegment handle, String what) {
            this.handle = handle;
            this.what = what;
        }

        MemorySegment handle() {
            if (closed) throw new IllegalStateException(what + " is closed");
            return handle;
        }

        boolean isClosed() { return closed; }

        abstract int release(MemorySegment handle);

        abstract String releaseFunction();

        @Override public synchronized void close() {
            if (closed) return;
            closed = true;
            check(release(handle), releaseFunction(), what);
        }

        @Override public String toString() { return what + (closed ? " (closed)" : ""); }
    }

    static final class Context extends Handle {
        final DeviceInfo device;
        final MemorySegment deviceList;   // cl_device_id[1], for clBuildProgram

        private Context(MemorySegment handle, DeviceInfo device, MemorySegment deviceList) {
            super(handle, "OpenCL context on " + device.name());
            this.device = device;
            this.deviceList = deviceList;
        }

        static Context create(DeviceInfo device) {
            // Arena.ofAuto: one pointer that lives as long as the context object does.
            MemorySegment list = Arena.ofAuto().allocateFrom(ADDRESS, device.device());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment error = a.allocate(JAVA_INT);
                MemorySegment ctx = cl_h.clCreateContext(MemorySegment.NULL, 1, list, MemorySegment.NULL, MemorySegment.NULL, error);
                check(error.get(JAVA_INT, 0), "clCreateContext", device.name());
                return new Context(ctx, device, list);
            }
        }

        @Override int release(MemorySegment h) { return cl_h.clReleaseContext(h); }

        @Override String releaseFunction() { return "clReleaseContext"; }
    }

    /** An in-order command queue; enqueues that set kernel arguments hold its monitor. */
    static final class Queue extends Handle {
        private Queue(MemorySegment handle, String what) { super(handle, what); }

        static Queue create(Context context) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment error = a.allocate(JAVA_INT);
                MemorySegment q = cl_h.clCreateCommandQueue(context.handle(), context.device.device(), 0L, error);
                check(error.get(JAVA_INT, 0), "clCreateCommandQueue", context.device.name());
                return new Queue(q, "OpenCL queue on " + context.device.name());
            }
        }

        /** Enqueues {@code kernel} over a 1-, 2- or 3-D range whose sizes were set with {@link Kernel#range}. */
        void run(Kernel kernel) {
            check(cl_h.clEnqueueNDRangeKernel(handle(), kernel.handle(), kernel.dims, MemorySegment.NULL,
                    kernel.global, kernel.local, 0, MemorySegment.NULL, MemorySegment.NULL), "clEnqueueNDRangeKernel", kernel.what);
        }

        /** Blocking copy of {@code src.byteSize()} host bytes into {@code buffer} at {@code offset}. */
        void write(Buffer buffer, long offset, MemorySegment src) {
            check(cl_h.clEnqueueWriteBuffer(handle(), buffer.handle(), cl_h.CL_TRUE(), offset, src.byteSize(), src,
                    0, MemorySegment.NULL, MemorySegment.NULL), "clEnqueueWriteBuffer", bytes(buffer, offset, src.byteSize()));
        }

        /** Blocking copy of {@code dst.byteSize()} bytes of {@code buffer} at {@code offset} to host memory. */
        void read(Buffer buffer, long offset, MemorySegment dst) {
            check(cl_h.clEnqueueReadBuffer(handle(), buffer.handle(), cl_h.CL_TRUE(), offset, dst.byteSize(), dst,
                    0, MemorySegment.NULL, MemorySegment.NULL), "clEnqueueReadBuffer", bytes(buffer, offset, dst.byteSize()));
        }

        /** Fills {@code [offset, offset + size)} with a repeated pattern (copied at the call). */
        void fill(Buffer buffer, MemorySegment pattern, long offset, long size) {
            check(cl_h.clEnqueueFillBuffer(handle(), buffer.handle(), pattern, pattern.byteSize(), offset, size,
                    0, MemorySegment.NULL, MemorySegment.NULL), "clEnqueueFillBuffer", bytes(buffer, offset, size));
        }

        void finish() { check(cl_h.clFinish(handle()), "clFinish", what); }

        private static String bytes(Buffer buffer, long offset, long size) {
            return size + " bytes at " + offset + " of " + buffer.what;
        }

        @Override int release(MemorySegment h) { return cl_h.clReleaseCommandQueue(h); }

        @Override String releaseFunction() { return "clReleaseCommandQueue"; }
    }

    static final class Buffer extends Handle {
        final long byteSize;

        private Buffer(MemorySegment handle, long byteSize) {
            super(handle, "OpenCL buffer of " + byteSize + " bytes");
            this.byteSize = byteSize;
        }

        static Buffer create(Context context, long bytes) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment error = a.allocate(JAVA_INT);
                MemorySegment b = cl_h.clCreateBuffer(context.handle(), cl_h.CL_MEM_READ_WRITE(), bytes, MemorySegment.NULL, error);
                check(error.get(JAVA_INT, 0), "clCreateBuffer", bytes + " bytes on " + context.device.name());
                return new Buffer(b, bytes);
            }
        }

        @Override int release(MemorySegment h) { return cl_h.clReleaseMemObject(h); }

        @Override String releaseFunction() { return "clReleaseMemObject"; }
    }

    static final class Program extends Handle {
        private final Context context;

        private Program(MemorySegment handle, String name, Context context) {
            super(handle, "OpenCL program " + name);
            this.context = context;
        }

        /**
         * Compiles the concatenation of {@code sources} for the context's device. A failed build
         * throws an {@link OpenClException} whose message holds the compiler's log.
         */
        static Program build(Context context, String name, String options, String... sources) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment strings = a.allocate(ADDRESS, sources.length);
                for (int i = 0; i < sources.length; i++) strings.setAtIndex(ADDRESS, i, a.allocateFrom(sources[i]));
                MemorySegment error = a.allocate(JAVA_INT);
                MemorySegment p = cl_h.clCreateProgramWithSource(context.handle(), sources.length, strings, MemorySegment.NULL, error);
                check(error.get(JAVA_INT, 0), "clCreateProgramWithSource", name);
                Program program = new Program(p, name, context);
                int status = cl_h.clBuildProgram(p, 1, context.deviceList, a.allocateFrom(options), MemorySegment.NULL, MemorySegment.NULL);
                if (status != cl_h.CL_SUCCESS()) {
                    String log = program.buildLog();
                    program.close();
                    throw new OpenClException("clBuildProgram", status, "program " + name + " for " + context.device.name()
                            + ", compiler log:\n" + log);
                }
                return program;
            }
        }

        String buildLog() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment size = a.allocate(JAVA_LONG);
                MemorySegment dev = context.device.device();
                check(cl_h.clGetProgramBuildInfo(handle(), dev, cl_h.CL_PROGRAM_BUILD_LOG(), 0L, MemorySegment.NULL, size),
                        "clGetProgramBuildInfo", what);
                MemorySegment log = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check(cl_h.clGetProgramBuildInfo(handle(), dev, cl_h.CL_PROGRAM_BUILD_LOG(), log.byteSize(), log, MemorySegment.NULL),
                        "clGetProgramBuildInfo", what);
                return log.getString(0).trim();
            }
        }

        @Override int release(MemorySegment h) { return cl_h.clReleaseProgram(h); }

        @Override String releaseFunction() { return "clReleaseProgram"; }
    }

    /**
     * A kernel with its argument scratch. Arguments stay set on the kernel between launches, so
     * plans set the fixed ones (geometry, hyperparameters) once and only the tensors per call.
     * Not thread-safe: hold the queue's monitor from the first setter to {@link Queue#run}.
     */
    static final class Kernel extends Handle {
        private final MemorySegment slot;      // one argument value (up to 128 bytes)
        private final MemorySegment global;    // size_t[3]
        private final MemorySegment local;     // size_t[3]
        private int dims = 1;

        private Kernel(MemorySegment handle, String what) {
            super(handle, what);
            // Arena.ofAuto: a few bytes freed with the kernel object; no per-call allocation.
            Arena arena = Arena.ofAuto();
            slot = arena.allocate(128, 8);
            global = arena.allocate(JAVA_LONG, 3);
            local = arena.allocate(JAVA_LONG, 3);
        }

        static Kernel create(Program program, String name) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment error = a.allocate(JAVA_INT);
                MemorySegment k = cl_h.clCreateKernel(program.handle(), a.allocateFrom(name), error);
                check(error.get(JAVA_INT, 0), "clCreateKernel", name + " of " + program.what);
                return new Kernel(k, "kernel " + name);
            }
        }

        /** A buffer argument: the {@code cl_mem} handle, or null for a NULL pointer in the kernel. */
        Kernel mem(int index, Buffer buffer) {
            if (buffer == null) {
                check(cl_h.clSetKernelArg(handle(), index, ADDRESS.byteSize(), MemorySegment.NULL), "clSetKernelArg", argName(index));
            } else {
                slot.set(ADDRESS, 0, buffer.handle());   // clSetKernelArg takes a pointer to the handle
                set(index, ADDRESS.byteSize());
            }
            return this;
        }

        Kernel i32(int index, int value) {
            slot.set(JAVA_INT, 0, value);
            return set(index, 4);
        }

        Kernel i64(int index, long value) {
            slot.set(JAVA_LONG, 0, value);
            return set(index, 8);
        }

        Kernel f32(int index, float value) {
            slot.set(JAVA_FLOAT, 0, value);
            return set(index, 4);
        }

        /** A by-value struct argument of ints (a geometry record). */
        Kernel ints(int index, int... values) {
            if (values.length * 4L > slot.byteSize()) throw new IllegalArgumentException(values.length + " ints do not fit an argument");
            for (int i = 0; i < values.length; i++) slot.setAtIndex(JAVA_INT, i, values[i]);
            return set(index, values.length * 4L);
        }

        private Kernel set(int index, long size) {
            check(cl_h.clSetKernelArg(handle(), index, size, slot), "clSetKernelArg", argName(index));
            return this;
        }

        private String argName(int index) { return "argument " + index + " of " + what; }

        /** A 1-D range: {@code items} rounded up to whole groups of {@code group}. */
        Kernel range(long items, long group) {
            dims = 1;
            global.setAtIndex(JAVA_LONG, 0, roundUp(items, group));
            local.setAtIndex(JAVA_LONG, 0, group);
            return this;
        }

        /** A 3-D range of whole groups: {@code groupsX * localX} by {@code groupsY * localY} by {@code groupsZ * localZ}. */
        Kernel groups(long groupsX, long groupsY, long groupsZ, long localX, long localY, long localZ) {
            dims = 3;
            global.setAtIndex(JAVA_LONG, 0, groupsX * localX);
            global.setAtIndex(JAVA_LONG, 1, groupsY * localY);
            global.setAtIndex(JAVA_LONG, 2, groupsZ * localZ);
            local.setAtIndex(JAVA_LONG, 0, localX);
            local.setAtIndex(JAVA_LONG, 1, localY);
            local.setAtIndex(JAVA_LONG, 2, localZ);
            return this;
        }

        @Override int release(MemorySegment h) { return cl_h.clReleaseKernel(h); }

        @Override String releaseFunction() { return "clReleaseKernel"; }
    }

    static long roundUp(long n, long multiple) { return (n + multiple - 1) / multiple * multiple; }
}
