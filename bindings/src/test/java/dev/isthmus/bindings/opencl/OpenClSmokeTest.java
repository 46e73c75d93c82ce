// Calls OpenCL through the bindings on whatever platform the ICD loader finds (PoCL on the CPU in
// CI): lists platforms and devices, builds a vector add from source, runs it on 1023 floats
// (an awkward size: the kernel's bounds check matters) with a profiled event, copies and fills
// buffers, and checks that a broken kernel gives CL_BUILD_PROGRAM_FAILURE and the compiler's log.
// Skipped, with the loader's message, where libOpenCL.so.1 is absent; an ICD loader without any
// platform skips too (install pocl-opencl-icd). PoCL needs a writable cache: the build sets
// POCL_CACHE_DIR to target/pocl-cache for the tests.
package dev.isthmus.bindings.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OpenClSmokeTest {

    static final String VECTOR_ADD = """
            __kernel void vector_add(__global const float *a, __global const float *b, __global float *c, const int n) {
                int i = get_global_id(0);
                if (i < n) {
                    c[i] = a[i] + b[i];
                }
            }
            """;

    /** An undeclared identifier: every OpenCL C compiler rejects it and says so in the log. */
    static final String BROKEN = """
            __kernel void broken(__global float *c) {
                c[get_global_id(0)] = not_declared_anywhere;
            }
            """;

    static final int N = 1023; // (N,) floats: not a multiple of any work-group size

    static Arena arena;
    static MemorySegment platform;
    static MemorySegment device;
    static MemorySegment devices; // cl_device_id[1]
    static MemorySegment context;

    /** The ICD loader, or a skip that says why it is absent. */
    static NativeLibraries.NativeLibrary openClOrSkip() {
        Assumptions.assumeTrue(NativeLibraries.openClProblem().isEmpty(), () -> NativeLibraries.openClProblem().orElseThrow());
        return NativeLibraries.openCl();
    }

    static void check(int status, String function) {
        assertEquals(cl_h.CL_SUCCESS(), status, function + " returned status " + status);
    }

    @BeforeAll
    static void createContext() {
        openClOrSkip();
        arena = Arena.ofShared();
        MemorySegment count = arena.allocate(JAVA_INT);
        int status = cl_h.clGetPlatformIDs(0, MemorySegment.NULL, count);
        // -1001 is CL_PLATFORM_NOT_FOUND_KHR (cl_ext.h): the ICD loader found no driver.
        Assumptions.assumeTrue(status != -1001 && !(status == cl_h.CL_SUCCESS() && count.get(JAVA_INT, 0) == 0),
                "the OpenCL ICD loader finds no platform: install a driver such as pocl-opencl-icd");
        check(status, "clGetPlatformIDs");
        int platforms = count.get(JAVA_INT, 0);
        MemorySegment ids = arena.allocate(ADDRESS, platforms);
        check(cl_h.clGetPlatformIDs(platforms, ids, MemorySegment.NULL), "clGetPlatformIDs");
        platform = ids.getAtIndex(ADDRESS, 0);

        devices = arena.allocate(ADDRESS, 1);
        check(cl_h.clGetDeviceIDs(platform, Integer.toUnsignedLong(cl_h.CL_DEVICE_TYPE_ALL()), 1, devices, MemorySegment.NULL),
                "clGetDeviceIDs (with PoCL, -1 often means an unwritable cache: set POCL_CACHE_DIR)");
        device = devices.getAtIndex(ADDRESS, 0);

        MemorySegment error = arena.allocate(JAVA_INT);
        context = cl_h.clCreateContext(MemorySegment.NULL, 1, devices, MemorySegment.NULL, MemorySegment.NULL, error);
        check(error.get(JAVA_INT, 0), "clCreateContext");
    }

    @AfterAll
    static void releaseContext() {
        if (context != null) {
            check(cl_h.clReleaseContext(context), "clReleaseContext");
        }
        if (arena != null) {
            arena.close();
        }
    }

    @Test
    void listsPlatformsAndDevices() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            check(cl_h.clGetPlatformIDs(0, MemorySegment.NULL, count), "clGetPlatformIDs");
            int platforms = count.get(JAVA_INT, 0);
            MemorySegment ids = a.allocate(ADDRESS, platforms);
            check(cl_h.clGetPlatformIDs(platforms, ids, MemorySegment.NULL), "clGetPlatformIDs");
            List<String> seen = new ArrayList<>();
            for (int p = 0; p < platforms; p++) {
                MemorySegment id = ids.getAtIndex(ADDRESS, p);
                String name = platformString(id, cl_h.CL_PLATFORM_NAME());
                String version = platformString(id, cl_h.CL_PLATFORM_VERSION());
                assertTrue(version.startsWith("OpenCL "), "CL_PLATFORM_VERSION: " + version);
                check(cl_h.clGetDeviceIDs(id, Integer.toUnsignedLong(cl_h.CL_DEVICE_TYPE_ALL()), 0, MemorySegment.NULL, count),
                        "clGetDeviceIDs");
                int n = count.get(JAVA_INT, 0);
                MemorySegment devs = a.allocate(ADDRESS, n);
                check(cl_h.clGetDeviceIDs(id, Integer.toUnsignedLong(cl_h.CL_DEVICE_TYPE_ALL()), n, devs, MemorySegment.NULL),
                        "clGetDeviceIDs");
                for (int d = 0; d < n; d++) {
                    MemorySegment dev = devs.getAtIndex(ADDRESS, d);
                    String deviceName = deviceString(dev, cl_h.CL_DEVICE_NAME());
                    String cVersion = deviceString(dev, cl_h.CL_DEVICE_OPENCL_C_VERSION());
                    int units = deviceInt(dev, cl_h.CL_DEVICE_MAX_COMPUTE_UNITS());
                    long groupSize = deviceLong(dev, cl_h.CL_DEVICE_MAX_WORK_GROUP_SIZE());
                    long memory = deviceLong(dev, cl_h.CL_DEVICE_GLOBAL_MEM_SIZE());
                    long type = deviceLong(dev, cl_h.CL_DEVICE_TYPE());
                    assertTrue(units >= 1 && groupSize >= 1 && memory > 0, deviceName);
                    assertTrue((type & Integer.toUnsignedLong(cl_h.CL_DEVICE_TYPE_ALL())) != 0, deviceName + ": type " + type);
                    assertTrue(cVersion.startsWith("OpenCL C "), "CL_DEVICE_OPENCL_C_VERSION: " + cVersion);
                    seen.add(name + " (" + version + ") / " + deviceName + " (" + cVersion + ", " + units
                            + " compute units, work groups up to " + groupSize + ")");
                }
            }
            assertTrue(!seen.isEmpty(), "no device on any platform");
            System.out.println("OpenCL: " + String.join("; ", seen));
        }
    }

    @Test
    void vectorAddOn1023Floats() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment error = a.allocate(JAVA_INT);
            MemorySegment queue = cl_h.clCreateCommandQueue(context, device, cl_h.CL_QUEUE_PROFILING_ENABLE(), error);
            check(error.get(JAVA_INT, 0), "clCreateCommandQueue");

            Random random = new Random(42);
            float[] x = new float[N];
            float[] y = new float[N];
            for (int i = 0; i < N; i++) {
                x[i] = random.nextFloat() * 2 - 1;
                y[i] = random.nextFloat() * 2 - 1;
            }
            long bytes = (long) N * Float.BYTES;
            MemorySegment hostA = a.allocateFrom(JAVA_FLOAT, x);
            MemorySegment hostB = a.allocateFrom(JAVA_FLOAT, y);
            MemorySegment bufA = buffer(cl_h.CL_MEM_READ_ONLY(), bytes, error);
            MemorySegment bufB = buffer(cl_h.CL_MEM_READ_ONLY(), bytes, error);
            MemorySegment bufC = buffer(cl_h.CL_MEM_READ_WRITE(), bytes, error);
            MemorySegment bufD = buffer(cl_h.CL_MEM_READ_WRITE(), bytes, error);
            check(cl_h.clEnqueueWriteBuffer(queue, bufA, cl_h.CL_TRUE(), 0L, bytes, hostA, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "clEnqueueWriteBuffer");
            check(cl_h.clEnqueueWriteBuffer(queue, bufB, cl_h.CL_TRUE(), 0L, bytes, hostB, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "clEnqueueWriteBuffer");

            MemorySegment program = program(VECTOR_ADD, error);
            check(cl_h.clBuildProgram(program, 1, devices, a.allocateFrom(""), MemorySegment.NULL, MemorySegment.NULL),
                    "clBuildProgram: " + buildLog(program));
            MemorySegment kernel = cl_h.clCreateKernel(program, a.allocateFrom("vector_add"), error);
            check(error.get(JAVA_INT, 0), "clCreateKernel");
            MemorySegment groupSize = a.allocate(JAVA_LONG);
            check(cl_h.clGetKernelWorkGroupInfo(kernel, device, cl_h.CL_KERNEL_WORK_GROUP_SIZE(), 8L, groupSize, MemorySegment.NULL),
                    "clGetKernelWorkGroupInfo");
            long local = Math.min(64, groupSize.get(JAVA_LONG, 0));
            long global = (N + local - 1) / local * local; // 1024 with 64: the last item is out of bounds

            // clSetKernelArg takes a pointer to the cl_mem handle, not the handle.
            check(cl_h.clSetKernelArg(kernel, 0, ADDRESS.byteSize(), a.allocateFrom(ADDRESS, bufA)), "clSetKernelArg(a)");
            check(cl_h.clSetKernelArg(kernel, 1, ADDRESS.byteSize(), a.allocateFrom(ADDRESS, bufB)), "clSetKernelArg(b)");
            check(cl_h.clSetKernelArg(kernel, 2, ADDRESS.byteSize(), a.allocateFrom(ADDRESS, bufC)), "clSetKernelArg(c)");
            check(cl_h.clSetKernelArg(kernel, 3, 4L, a.allocateFrom(JAVA_INT, N)), "clSetKernelArg(n)");
            MemorySegment event = a.allocate(ADDRESS);
            check(cl_h.clEnqueueNDRangeKernel(queue, kernel, 1, MemorySegment.NULL, a.allocateFrom(JAVA_LONG, global),
                    a.allocateFrom(JAVA_LONG, local), 0, MemorySegment.NULL, event), "clEnqueueNDRangeKernel");
            check(cl_h.clFlush(queue), "clFlush");
            check(cl_h.clWaitForEvents(1, event), "clWaitForEvents");
            MemorySegment start = a.allocate(JAVA_LONG);
            MemorySegment end = a.allocate(JAVA_LONG);
            MemorySegment kernelEvent = event.get(ADDRESS, 0);
            check(cl_h.clGetEventProfilingInfo(kernelEvent, cl_h.CL_PROFILING_COMMAND_START(), 8L, start, MemorySegment.NULL),
                    "clGetEventProfilingInfo(START)");
            check(cl_h.clGetEventProfilingInfo(kernelEvent, cl_h.CL_PROFILING_COMMAND_END(), 8L, end, MemorySegment.NULL),
                    "clGetEventProfilingInfo(END)");
            assertTrue(end.get(JAVA_LONG, 0) >= start.get(JAVA_LONG, 0), "profiled end " + end.get(JAVA_LONG, 0)
                    + " before start " + start.get(JAVA_LONG, 0));
            check(cl_h.clReleaseEvent(kernelEvent), "clReleaseEvent");

            // c = a + b, then d = copy of c; read d back.
            check(cl_h.clEnqueueCopyBuffer(queue, bufC, bufD, 0L, 0L, bytes, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "clEnqueueCopyBuffer");
            MemorySegment hostD = a.allocate(JAVA_FLOAT, N);
            check(cl_h.clEnqueueReadBuffer(queue, bufD, cl_h.CL_TRUE(), 0L, bytes, hostD, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "clEnqueueReadBuffer");
            assertFloats(sum(x, y), hostD.toArray(JAVA_FLOAT), "vector_add then copy");

            // Fill c with 1.5 and read it back.
            check(cl_h.clEnqueueFillBuffer(queue, bufC, a.allocateFrom(JAVA_FLOAT, 1.5f), 4L, 0L, bytes, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueFillBuffer");
            check(cl_h.clFinish(queue), "clFinish");
            MemorySegment hostC = a.allocate(JAVA_FLOAT, N);
            check(cl_h.clEnqueueReadBuffer(queue, bufC, cl_h.CL_TRUE(), 0L, bytes, hostC, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "clEnqueueReadBuffer");
            float[] ones = new float[N];
            java.util.Arrays.fill(ones, 1.5f);
            assertFloats(ones, hostC.toArray(JAVA_FLOAT), "fill");

            check(cl_h.clReleaseKernel(kernel), "clReleaseKernel");
            check(cl_h.clReleaseProgram(program), "clReleaseProgram");
            for (MemorySegment b : List.of(bufA, bufB, bufC, bufD)) {
                check(cl_h.clReleaseMemObject(b), "clReleaseMemObject");
            }
            check(cl_h.clReleaseCommandQueue(queue), "clReleaseCommandQueue");
        }
    }

    @Test
    void brokenSourceFailsWithTheCompilersLog() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment error = a.allocate(JAVA_INT);
            MemorySegment program = program(BROKEN, error);
            int status = cl_h.clBuildProgram(program, 1, devices, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL);
            String log = buildLog(program);
            assertEquals(cl_h.CL_BUILD_PROGRAM_FAILURE(), status, "clBuildProgram of broken source; log:\n" + log);
            assertTrue(log.contains("not_declared_anywhere") && log.toLowerCase(java.util.Locale.ROOT).contains("error"),
                    "the log names the error:\n" + log);
            check(cl_h.clReleaseProgram(program), "clReleaseProgram");
        }
    }

    // ---- helpers

    static MemorySegment buffer(int flags, long bytes, MemorySegment error) {
        MemorySegment b = cl_h.clCreateBuffer(context, flags, bytes, MemorySegment.NULL, error);
        check(error.get(JAVA_INT, 0), "clCreateBuffer");
        return b;
    }

    static MemorySegment program(String source, MemorySegment error) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment strings = a.allocateFrom(ADDRESS, a.allocateFrom(source)); // const char *[1], NUL-terminated
            MemorySegment program = cl_h.clCreateProgramWithSource(context, 1, strings, MemorySegment.NULL, error);
            check(error.get(JAVA_INT, 0), "clCreateProgramWithSource");
            return program;
        }
    }

    static String buildLog(MemorySegment program) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(cl_h.clGetProgramBuildInfo(program, device, cl_h.CL_PROGRAM_BUILD_LOG(), 0L, MemorySegment.NULL, size),
                    "clGetProgramBuildInfo");
            MemorySegment log = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check(cl_h.clGetProgramBuildInfo(program, device, cl_h.CL_PROGRAM_BUILD_LOG(), log.byteSize(), log, MemorySegment.NULL),
                    "clGetProgramBuildInfo");
            return log.getString(0);
        }
    }

    static String platformString(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(cl_h.clGetPlatformInfo(id, key, 0L, MemorySegment.NULL, size), "clGetPlatformInfo");
            MemorySegment value = a.allocate(size.get(JAVA_LONG, 0));
            check(cl_h.clGetPlatformInfo(id, key, value.byteSize(), value, MemorySegment.NULL), "clGetPlatformInfo");
            return value.getString(0);
        }
    }

    static String deviceString(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(cl_h.clGetDeviceInfo(id, key, 0L, MemorySegment.NULL, size), "clGetDeviceInfo");
            MemorySegment value = a.allocate(size.get(JAVA_LONG, 0));
            check(cl_h.clGetDeviceInfo(id, key, value.byteSize(), value, MemorySegment.NULL), "clGetDeviceInfo");
            return value.getString(0);
        }
    }

    /** A cl_uint device property. */
    static int deviceInt(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_INT);
            check(cl_h.clGetDeviceInfo(id, key, 4L, value, MemorySegment.NULL), "clGetDeviceInfo(" + key + ")");
            return value.get(JAVA_INT, 0);
        }
    }

    /** A size_t, cl_ulong or cl_bitfield device property. */
    static long deviceLong(MemorySegment id, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(JAVA_LONG);
            check(cl_h.clGetDeviceInfo(id, key, 8L, value, MemorySegment.NULL), "clGetDeviceInfo(" + key + ")");
            return value.get(JAVA_LONG, 0);
        }
    }

    static float[] sum(float[] x, float[] y) {
        float[] z = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            z[i] = x[i] + y[i];
        }
        return z;
    }

    /** Exact comparison (one IEEE add per element); a failure shows the first differences side by side. */
    static void assertFloats(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
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
