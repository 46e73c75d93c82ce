// Calls into the loaded oneDNN and libgomp through the bindings: version, a CPU engine and stream,
// a memory descriptor and its size, and dnnl_sgemm against a plain Java triple loop.
package dev.isthmus.bindings.dnnl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.omp.omp_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DnnlSmokeTest {

    static void check(int status, String function) {
        assertEquals(dnnl_h.dnnl_success(), status, function + " returned status " + status);
    }

    @Test
    void versionIs3_13() {
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.sizeof());
        assertEquals(3, dnnl_version_t.major(v), "major");
        assertEquals(13, dnnl_version_t.minor(v), "minor");
        assertEquals(dnnl_h.DNNL_VERSION_MAJOR(), dnnl_version_t.major(v));
        assertEquals(dnnl_h.DNNL_RUNTIME_OMP(), dnnl_version_t.cpu_runtime(v), "oneDNN from the natives jar runs on OpenMP");
        String hash = dnnl_version_t.hash(v).reinterpret(64).getString(0);
        assertTrue(!hash.isEmpty(), "the git hash of the build (N/A when built outside git)");
    }

    @Test
    void engineStreamAndMemoryDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            assertTrue(dnnl_h.dnnl_engine_get_count(dnnl_h.dnnl_cpu()) >= 1, "CPU engines");
            MemorySegment slot = arena.allocate(ADDRESS);
            check(dnnl_h.dnnl_engine_create(slot, dnnl_h.dnnl_cpu(), 0L), "dnnl_engine_create");
            MemorySegment engine = slot.get(ADDRESS, 0);
            MemorySegment kind = arena.allocate(JAVA_INT);
            check(dnnl_h.dnnl_engine_get_kind(engine, kind), "dnnl_engine_get_kind");
            assertEquals(dnnl_h.dnnl_cpu(), kind.get(JAVA_INT, 0));

            check(dnnl_h.dnnl_stream_create(slot, engine, dnnl_h.dnnl_stream_default_flags()), "dnnl_stream_create");
            MemorySegment stream = slot.get(ADDRESS, 0);

            // (N, C, H, W) = (2, 3, 5, 7), plain row-major f32
            MemorySegment dims = arena.allocateFrom(JAVA_LONG, 2, 3, 5, 7);
            check(dnnl_h.dnnl_memory_desc_create_with_tag(slot, 4, dims, dnnl_h.dnnl_f32(), dnnl_h.dnnl_nchw()),
                    "dnnl_memory_desc_create_with_tag");
            MemorySegment md = slot.get(ADDRESS, 0);
            assertEquals(2L * 3 * 5 * 7 * Float.BYTES, dnnl_h.dnnl_memory_desc_get_size(md));
            MemorySegment ndims = arena.allocate(JAVA_INT);
            check(dnnl_h.dnnl_memory_desc_query(md, dnnl_h.dnnl_query_ndims_s32(), ndims), "dnnl_memory_desc_query");
            assertEquals(4, ndims.get(JAVA_INT, 0));

            check(dnnl_h.dnnl_memory_create(slot, md, engine, dnnl_h.DNNL_MEMORY_ALLOCATE()), "dnnl_memory_create");
            MemorySegment memory = slot.get(ADDRESS, 0);
            check(dnnl_h.dnnl_memory_get_data_handle(memory, slot), "dnnl_memory_get_data_handle");
            assertTrue(slot.get(ADDRESS, 0).address() != 0, "oneDNN allocated the buffer");

            check(dnnl_h.dnnl_memory_destroy(memory), "dnnl_memory_destroy");
            check(dnnl_h.dnnl_memory_desc_destroy(md), "dnnl_memory_desc_destroy");
            check(dnnl_h.dnnl_stream_wait(stream), "dnnl_stream_wait");
            check(dnnl_h.dnnl_stream_destroy(stream), "dnnl_stream_destroy");
            check(dnnl_h.dnnl_engine_destroy(engine), "dnnl_engine_destroy");
        }
    }

    @Test
    void sgemmMatchesATripleLoop() {
        int m = 3, n = 5, k = 4; // C (M, N) = A (M, K) x B (K, N), row-major
        Random random = new Random(42);
        float[] a = new float[m * k], b = new float[k * n], expected = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = random.nextFloat() - 0.5f;
        for (int i = 0; i < b.length; i++) b[i] = random.nextFloat() - 0.5f;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
                expected[i * n + j] = sum;
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocateFrom(JAVA_FLOAT, a), sb = arena.allocateFrom(JAVA_FLOAT, b);
            MemorySegment sc = arena.allocate(JAVA_FLOAT, (long) m * n);
            check(dnnl_h.dnnl_sgemm((byte) 'N', (byte) 'N', m, n, k, 1.0f, sa, k, sb, n, 0.0f, sc, n), "dnnl_sgemm");
            float[] actual = sc.toArray(JAVA_FLOAT);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-5f, "C[" + i / n + ", " + i % n + "]");
            }
        }
    }

    @Test
    void openMpThreadCount() {
        int threads = omp_h.omp_get_max_threads();
        assertTrue(threads >= 1, "omp_get_max_threads: " + threads);
        omp_h.omp_set_num_threads(1);
        assertEquals(1, omp_h.omp_get_max_threads());
        omp_h.omp_set_num_threads(threads);
        assertEquals(threads, omp_h.omp_get_max_threads());
    }
}
