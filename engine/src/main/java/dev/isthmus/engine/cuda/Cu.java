package dev.isthmus.engine.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.isthmus.bindings.cuda.cuda_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The thin façade over {@code cuda_h} (the CUDA driver API): every {@code CUresult} is checked and
 * becomes a {@link CudaException} naming the C function and the status's C name; modules are
 * {@code AutoCloseable} handles whose {@code close} unloads them. No op logic lives here.
 *
 * <p>Per-call memory: a {@link Kernel} owns its {@code kernelParams} array and the argument
 * values it points to, so setting arguments and launching allocate nothing. That memory is shared
 * state: callers hold the backend's lock from the first setter to {@link Kernel#launch}.
 */
final class Cu {
    private Cu() {}

    /** The C name of a status from the driver itself ({@code cuGetErrorName}), else the number. */
    static String statusName(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(ADDRESS);
            if (cuda_h.cuGetErrorName(status, name) == cuda_h.CUDA_SUCCESS() && !name.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
                return name.get(ADDRESS, 0).reinterpret(128).getString(0);
            }
        }
        return "unknown CUresult " + status;
    }

    static void check(int status, String function) { check(status, function, null); }

    static void check(int status, String function, String detail) {
        if (status != cuda_h.CUDA_SUCCESS()) throw new CudaException(function, status, statusName(status), detail);
    }

    // ---- device memory (CUdeviceptr is a 64-bit integer)

    static long alloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = a.allocate(JAVA_LONG);
            check(cuda_h.cuMemAlloc_v2(slot, bytes), "cuMemAlloc_v2", bytes + " bytes");
            return slot.get(JAVA_LONG, 0);
        }
    }

    static void free(long pointer) { check(cuda_h.cuMemFree_v2(pointer), "cuMemFree_v2"); }

    // ---- modules

    /** A module loaded from PTX (JIT-compiled by the driver for the current context's device). */
    static final class Module implements AutoCloseable {
        private static final int LOG_BYTES = 16 * 1024;

        final String name;
        private final MemorySegment handle;
        private boolean closed;

        private Module(String name, MemorySegment handle) {
            this.name = name;
            this.handle = handle;
        }

        /**
         * Loads {@code ptx} with {@code cuModuleLoadDataEx}; a failure throws a {@link CudaException}
         * holding the JIT compiler's error log.
         */
        static Module load(String name, String ptx) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment log = a.allocate(LOG_BYTES);
                // options are (CUjit_option, void *) pairs; a size travels as the pointer's value
                MemorySegment options = a.allocateFrom(JAVA_INT, cuda_h.CU_JIT_ERROR_LOG_BUFFER(), cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
                MemorySegment values = a.allocate(ADDRESS, 2);
                values.setAtIndex(ADDRESS, 0, log);
                values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES));
                MemorySegment slot = a.allocate(ADDRESS);
                int status = cuda_h.cuModuleLoadDataEx(slot, a.allocateFrom(ptx), 2, options, values);
                if (status != cuda_h.CUDA_SUCCESS()) {
                    String jit = log.getString(0).trim();
                    throw new CudaException("cuModuleLoadDataEx", status, statusName(status),
                            "PTX module " + name + (jit.isEmpty() ? " (the JIT log is empty)" : ", JIT log:\n" + jit));
                }
                return new Module(name, slot.get(ADDRESS, 0));
            }
        }

        /** The entry point {@code entry} ({@code extern "C"}, so its PTX name is the plain name). */
        MemorySegment function(String entry) {
            if (closed) throw new IllegalStateException("PTX module " + name + " is unloaded");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment slot = a.allocate(ADDRESS);
                check(cuda_h.cuModuleGetFunction(slot, handle, a.allocateFrom(entry)), "cuModuleGetFunction",
                        entry + " in PTX module " + name);
                return slot.get(ADDRESS, 0);
            }
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            check(cuda_h.cuModuleUnload(handle), "cuModuleUnload", name);
        }
    }

    /**
     * One launch site: a kernel function, its grid and block, and its arguments. Arguments stay set
     * between launches, so plans set the fixed ones (geometry, hyperparameters) once and only the
     * tensors per call. {@code kernelParams} is an array of pointers, each to one argument's value
     * in a 64-byte slot (the largest by-value argument is a geometry struct of 16 ints). Every
     * setter checks its size against the PTX's declaration, so a plan that disagrees with its .cu
     * file fails with a message instead of passing garbage.
     * Not thread-safe: hold the backend's lock from the first setter to {@link #launch}.
     */
    static final class Kernel {
        private static final long SLOT = 64;

        final String name;
        private final MemorySegment function;
        private final int[] sizes;            // bytes of each parameter
        private final int arguments;
        private final MemorySegment values;   // arguments x SLOT bytes
        private final MemorySegment params;   // void *[arguments]
        private int set;                      // bit i: argument i has a value
        private int gridX = 1, gridY = 1, gridZ = 1, blockX = 1, blockY = 1, blockZ = 1;

        /** {@code sizes}: the byte size of each parameter, in order, as the PTX declares them. */
        Kernel(String name, MemorySegment function, int[] sizes) {
            if (sizes.length < 1 || sizes.length > 31) throw new IllegalArgumentException(name + ": " + sizes.length + " arguments");
            for (int size : sizes) {
                if (size < 1 || size > SLOT) throw new IllegalArgumentException(name + ": an argument of " + size + " bytes");
            }
            this.name = name;
            this.function = function;
            this.sizes = sizes.clone();
            this.arguments = sizes.length;
            // Arena.ofAuto: a few hundred bytes that live as long as the plan's kernel object.
            Arena arena = Arena.ofAuto();
            values = arena.allocate(arguments * SLOT, 16);
            params = arena.allocate(ADDRESS, arguments);
            for (int i = 0; i < arguments; i++) params.setAtIndex(ADDRESS, i, values.asSlice(i * SLOT, SLOT));
        }

        /** The offset of argument {@code index}'s value, after checking that the PTX declares it {@code bytes} wide. */
        private long slot(int index, long bytes) {
            if (index < 0 || index >= arguments) {
                throw new IndexOutOfBoundsException(name + " takes " + arguments + " arguments, not argument " + index);
            }
            if (sizes[index] != bytes) {
                throw new IllegalStateException(name + ": argument " + index + " is " + sizes[index] + " bytes in the PTX, set with "
                        + bytes + " bytes: the plan and the .cu file disagree");
            }
            set |= 1 << index;
            return index * SLOT;
        }

        /** A device pointer argument: base + byte offset, or 0 for a NULL pointer in the kernel. */
        Kernel pointer(int index, long address) {
            values.set(JAVA_LONG, slot(index, 8), address);
            return this;
        }

        Kernel i32(int index, int value) {
            values.set(JAVA_INT, slot(index, 4), value);
            return this;
        }

        Kernel i64(int index, long value) {
            values.set(JAVA_LONG, slot(index, 8), value);
            return this;
        }

        Kernel f32(int index, float value) {
            values.set(JAVA_FLOAT, slot(index, 4), value);
            return this;
        }

        /** A by-value struct of ints (a geometry record). */
        Kernel ints(int index, int... values) {
            if (values.length * 4L > SLOT) throw new IllegalArgumentException(values.length + " ints do not fit an argument of " + name);
            long offset = slot(index, values.length * 4L);
            for (int i = 0; i < values.length; i++) this.values.set(JAVA_INT, offset + 4L * i, values[i]);
            return this;
        }

        /** A 1-D launch: {@code items} threads rounded up to whole blocks of {@code block}. */
        Kernel range(long items, int block) {
            long blocks = (items + block - 1) / block;
            if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": " + items + " threads need more than 2^31 blocks");
            return grid((int) blocks, 1, 1, block, 1, 1);
        }

        /** A 3-D launch of {@code gridX x gridY x gridZ} blocks of {@code blockX x blockY x blockZ} threads. */
        Kernel grid(long gridX, long gridY, long gridZ, int blockX, int blockY, int blockZ) {
            if (gridX > Integer.MAX_VALUE || gridY > 65535 || gridZ > 65535) {
                throw new IllegalArgumentException(name + ": a grid of " + gridX + " x " + gridY + " x " + gridZ
                        + " blocks exceeds CUDA's limits (2^31 - 1 x 65535 x 65535)");
            }
            this.gridX = (int) Math.max(gridX, 1);
            this.gridY = (int) Math.max(gridY, 1);
            this.gridZ = (int) Math.max(gridZ, 1);
            this.blockX = blockX;
            this.blockY = blockY;
            this.blockZ = blockZ;
            return this;
        }

        /** Enqueues the kernel on the default stream; it runs after everything enqueued before it. */
        void launch() {
            if (set != (1 << arguments) - 1) {
                throw new IllegalStateException(name + ": arguments " + Integer.toBinaryString(~set & ((1 << arguments) - 1))
                        + " (bits, from argument 0 on the right) have no value");
            }
            check(cuda_h.cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, 0, MemorySegment.NULL,
                    params, MemorySegment.NULL), "cuLaunchKernel", name + " on " + gridX + "x" + gridY + "x" + gridZ
                    + " blocks of " + blockX + "x" + blockY + "x" + blockZ);
        }

        @Override public String toString() { return "kernel " + name; }
    }
}
