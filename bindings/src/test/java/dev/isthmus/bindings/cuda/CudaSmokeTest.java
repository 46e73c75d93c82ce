// Calls the CUDA driver API through the bindings on a real GPU: driver version, devices and their
// attributes, the primary context, a vector add compiled by nvcc to PTX and JIT-loaded with an
// error log, run on 1023 floats (an awkward size: the kernel's bounds check matters) on a
// stream between two timed events, then memset and device-to-device copies. Needs libcuda.so.1
// (the NVIDIA driver), a device and nvcc; each absence is a skip that says why.
package dev.isthmus.bindings.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaSmokeTest {

    static final int N = 1023; // (N,) floats

    @TempDir
    Path work;

    /** cuGetErrorName of a status, for messages. */
    static String errorName(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(ADDRESS);
            if (cuda_h.cuGetErrorName(status, name) != cuda_h.CUDA_SUCCESS()) {
                return "unknown CUresult " + status;
            }
            return name.get(ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    static void check(int status, String function) {
        assertEquals(cuda_h.CUDA_SUCCESS(), status, () -> function + " returned " + errorName(status) + " (" + status + ")");
    }

    @Test
    void vectorAddOn1023FloatsOnDevice0() throws Exception {
        Assumptions.assumeTrue(NativeLibraries.cudaProblem().isEmpty(), () -> NativeLibraries.cudaProblem().orElseThrow());
        Path bin = Nvcc.bin().orElse(null);
        Assumptions.assumeTrue(bin != null, "nvcc not found: the kernel is compiled to PTX at test time");
        try (Arena a = Arena.ofConfined()) {
            int init = cuda_h.cuInit(0);
            Assumptions.assumeTrue(init != cuda_h.CUDA_ERROR_NO_DEVICE(), "cuInit: CUDA_ERROR_NO_DEVICE, the driver sees no GPU");
            check(init, "cuInit");
            MemorySegment value = a.allocate(JAVA_INT);
            check(cuda_h.cuDriverGetVersion(value), "cuDriverGetVersion");
            int driver = value.get(JAVA_INT, 0);
            Assumptions.assumeTrue(driver >= 13000, "the driver supports CUDA " + driver / 1000 + "." + driver % 1000 / 10
                    + ": it cannot load the PTX of nvcc 13 (PTX ISA 9.0)");
            check(cuda_h.cuDeviceGetCount(value), "cuDeviceGetCount");
            assertTrue(value.get(JAVA_INT, 0) >= 1, "devices");
            check(cuda_h.cuDeviceGet(value, 0), "cuDeviceGet");
            int device = value.get(JAVA_INT, 0);
            MemorySegment name = a.allocate(256);
            check(cuda_h.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
            check(cuda_h.cuDeviceGetAttribute(value, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR(), device), "cuDeviceGetAttribute");
            int major = value.get(JAVA_INT, 0);
            check(cuda_h.cuDeviceGetAttribute(value, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR(), device), "cuDeviceGetAttribute");
            int minor = value.get(JAVA_INT, 0);
            check(cuda_h.cuDeviceGetAttribute(value, cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT(), device), "cuDeviceGetAttribute");
            int sms = value.get(JAVA_INT, 0);
            MemorySegment total = a.allocate(JAVA_LONG);
            check(cuda_h.cuDeviceTotalMem_v2(total, device), "cuDeviceTotalMem_v2");
            assertTrue(sms >= 1 && total.get(JAVA_LONG, 0) > 0, name.getString(0));
            System.out.println("CUDA: " + name.getString(0) + ", sm_" + major + minor + ", " + sms + " SMs, "
                    + (total.get(JAVA_LONG, 0) >> 20) + " MiB, driver " + driver);
            Assumptions.assumeTrue(major * 10 + minor >= 75, "the PTX targets sm_75; this device is sm_" + major + minor);

            MemorySegment slot = a.allocate(ADDRESS);
            check(cuda_h.cuDevicePrimaryCtxRetain(slot, device), "cuDevicePrimaryCtxRetain");
            MemorySegment context = slot.get(ADDRESS, 0);
            check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            try {
                run(a, bin);
            } finally {
                check(cuda_h.cuCtxSetCurrent(MemorySegment.NULL), "cuCtxSetCurrent(NULL)");
                check(cuda_h.cuDevicePrimaryCtxRelease_v2(device), "cuDevicePrimaryCtxRelease_v2");
            }
        }
    }

    private void run(Arena a, Path bin) throws Exception {
        // Load the PTX with an error log: cuModuleLoadDataEx's options are (CUjit_option, void *) pairs.
        MemorySegment ptx = a.allocateFrom(Files.readString(Nvcc.vectorAddPtx(bin, work)));
        int logSize = 8192;
        MemorySegment log = a.allocate(logSize);
        MemorySegment options = a.allocateFrom(JAVA_INT, cuda_h.CU_JIT_ERROR_LOG_BUFFER(), cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
        MemorySegment values = pointers(a, log, MemorySegment.ofAddress(logSize));
        MemorySegment slot = a.allocate(ADDRESS);
        int loaded = cuda_h.cuModuleLoadDataEx(slot, ptx, 2, options, values);
        assertEquals(cuda_h.CUDA_SUCCESS(), loaded, () -> "cuModuleLoadDataEx returned " + errorName(loaded) + "; JIT log:\n" + log.getString(0));
        MemorySegment module = slot.get(ADDRESS, 0);
        check(cuda_h.cuModuleGetFunction(slot, module, a.allocateFrom("vector_add")), "cuModuleGetFunction");
        MemorySegment function = slot.get(ADDRESS, 0);

        Random random = new Random(42);
        float[] x = new float[N];
        float[] y = new float[N];
        float[] expected = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = random.nextFloat() * 2 - 1;
            y[i] = random.nextFloat() * 2 - 1;
            expected[i] = x[i] + y[i];
        }
        long bytes = (long) N * Float.BYTES;
        long[] d = new long[4]; // CUdeviceptr a, b, c, copy
        MemorySegment pointer = a.allocate(JAVA_LONG);
        for (int i = 0; i < d.length; i++) {
            check(cuda_h.cuMemAlloc_v2(pointer, bytes), "cuMemAlloc_v2");
            d[i] = pointer.get(JAVA_LONG, 0);
        }
        check(cuda_h.cuMemcpyHtoD_v2(d[0], a.allocateFrom(JAVA_FLOAT, x), bytes), "cuMemcpyHtoD_v2");
        check(cuda_h.cuMemcpyHtoD_v2(d[1], a.allocateFrom(JAVA_FLOAT, y), bytes), "cuMemcpyHtoD_v2");
        check(cuda_h.cuMemsetD8_v2(d[2], (byte) 0, bytes), "cuMemsetD8_v2");

        check(cuda_h.cuStreamCreate(slot, cuda_h.CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
        MemorySegment stream = slot.get(ADDRESS, 0);
        check(cuda_h.cuEventCreate(slot, cuda_h.CU_EVENT_DEFAULT()), "cuEventCreate");
        MemorySegment start = slot.get(ADDRESS, 0);
        check(cuda_h.cuEventCreate(slot, cuda_h.CU_EVENT_DEFAULT()), "cuEventCreate");
        MemorySegment end = slot.get(ADDRESS, 0);

        // kernelParams: an array of pointers, each to one argument's value.
        MemorySegment params = pointers(a, a.allocateFrom(JAVA_LONG, d[0]), a.allocateFrom(JAVA_LONG, d[1]),
                a.allocateFrom(JAVA_LONG, d[2]), a.allocateFrom(JAVA_INT, N));
        int block = 128;
        int grid = (N + block - 1) / block;
        check(cuda_h.cuEventRecord(start, stream), "cuEventRecord");
        check(cuda_h.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, stream, params, MemorySegment.NULL), "cuLaunchKernel");
        check(cuda_h.cuEventRecord(end, stream), "cuEventRecord");
        check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
        check(cuda_h.cuEventSynchronize(end), "cuEventSynchronize");
        MemorySegment milliseconds = a.allocate(JAVA_FLOAT);
        check(cuda_h.cuEventElapsedTime_v2(milliseconds, start, end), "cuEventElapsedTime_v2");
        assertTrue(milliseconds.get(JAVA_FLOAT, 0) >= 0, "elapsed " + milliseconds.get(JAVA_FLOAT, 0) + " ms");

        check(cuda_h.cuMemcpyDtoD_v2(d[3], d[2], bytes), "cuMemcpyDtoD_v2");
        check(cuda_h.cuCtxSynchronize(), "cuCtxSynchronize");
        MemorySegment host = a.allocate(JAVA_FLOAT, N);
        check(cuda_h.cuMemcpyDtoH_v2(host, d[3], bytes), "cuMemcpyDtoH_v2");
        assertFloats(expected, host.toArray(JAVA_FLOAT), "vector_add then cuMemcpyDtoD");

        check(cuda_h.cuMemsetD32_v2(d[3], Float.floatToRawIntBits(1.5f), N), "cuMemsetD32_v2");
        check(cuda_h.cuMemcpyDtoH_v2(host, d[3], bytes), "cuMemcpyDtoH_v2");
        float[] filled = new float[N];
        java.util.Arrays.fill(filled, 1.5f);
        assertFloats(filled, host.toArray(JAVA_FLOAT), "cuMemsetD32_v2");

        check(cuda_h.cuEventDestroy_v2(start), "cuEventDestroy_v2");
        check(cuda_h.cuEventDestroy_v2(end), "cuEventDestroy_v2");
        check(cuda_h.cuStreamDestroy_v2(stream), "cuStreamDestroy_v2");
        for (long p : d) {
            check(cuda_h.cuMemFree_v2(p), "cuMemFree_v2");
        }
        check(cuda_h.cuModuleUnload(module), "cuModuleUnload");
    }

    /** A C array of pointers ({@code void *[]}). */
    static MemorySegment pointers(Arena a, MemorySegment... values) {
        MemorySegment array = a.allocate(ADDRESS, values.length);
        for (int i = 0; i < values.length; i++) {
            array.setAtIndex(ADDRESS, i, values[i]);
        }
        return array;
    }

    /** Exact comparison (one IEEE add per element); a failure shows the first differences side by side. */
    static void assertFloats(float[] expected, float[] actual, String what) {
        List<String> first = new ArrayList<>();
        float maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.compare(expected[i], actual[i]) != 0) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
                if (first.size() < 8) {
                    first.add("[" + i + "] expected " + expected[i] + ", got " + actual[i]);
                }
            }
        }
        assertTrue(first.isEmpty(), what + ": max difference " + maxDiff + "; first differences:\n" + String.join("\n", first));
    }
}
