package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.isthmus.bindings.dnnl.dnnl_version_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The thin façade over the oneDNN bindings: every {@code dnnl_status_t} is checked and turned
 * into a {@link DnnlException} naming the C function and the status; every oneDNN object is a
 * small {@link AutoCloseable} handle whose {@code close} calls the matching destroy, once.
 * Out-parameters go through an {@code ADDRESS} slot; {@code dnnl_dims_t} is 12 longs.
 *
 * <p>Not here: what to create (the plans decide) and anything per call beyond
 * {@link Memory#setData} and {@link Primitive#execute}, the two calls on the hot path.
 */
final class Dnnl {
    private Dnnl() {}

    /** {@code DNNL_MAX_NDIMS}: the length of a {@code dnnl_dims_t}. */
    static final int MAX_NDIMS = 12;

    // ---- statuses ----------------------------------------------------------------------

    /** Throws a {@link DnnlException} unless {@code status} is {@code dnnl_success}. */
    static void check(int status, String function) {
        if (status != dnnl_success()) throw new DnnlException(function, status, null);
    }

    /** Like {@link #check(int, String)} with what was asked, computed only on failure. */
    static void check(int status, String function, Object detail) {
        if (status != dnnl_success()) throw new DnnlException(function, status, String.valueOf(detail));
    }

    private static final String[] STATUS_NAMES = {"dnnl_success", "dnnl_out_of_memory", "dnnl_invalid_arguments",
            "dnnl_unimplemented", "dnnl_last_impl_reached", "dnnl_runtime_error", "dnnl_not_required",
            "dnnl_invalid_graph", "dnnl_invalid_graph_op", "dnnl_invalid_shape", "dnnl_invalid_data_type"};

    /** The C name of a {@code dnnl_status_t}, e.g. {@code dnnl_invalid_arguments}. */
    static String statusName(int status) {
        int[] values = {dnnl_success(), dnnl_out_of_memory(), dnnl_invalid_arguments(), dnnl_unimplemented(),
                dnnl_last_impl_reached(), dnnl_runtime_error(), dnnl_not_required(), dnnl_invalid_graph(),
                dnnl_invalid_graph_op(), dnnl_invalid_shape(), dnnl_invalid_data_type()};
        for (int i = 0; i < values.length; i++) if (values[i] == status) return STATUS_NAMES[i];
        return "unknown dnnl_status_t " + status;
    }

    /** A C call that writes one handle into {@code slot} and returns a status. */
    @FunctionalInterface
    interface Creator {
        int create(MemorySegment slot);
    }

    /** Calls {@code creator} with a fresh out-parameter slot and returns the handle it wrote. */
    static MemorySegment create(String function, Object detail, Creator creator) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = a.allocate(ADDRESS);
            check(creator.create(slot), function, detail);
            MemorySegment handle = slot.get(ADDRESS, 0);
            if (handle.equals(MemorySegment.NULL)) throw new DnnlException(function, dnnl_runtime_error(), "returned a null handle");
            return handle;
        }
    }

    /** A {@code dnnl_dims_t} (12 int64) in {@code arena} holding {@code values} then zeros. */
    static MemorySegment dims(Arena arena, long... values) {
        if (values.length > MAX_NDIMS) throw new IllegalArgumentException(values.length + " dims, at most " + MAX_NDIMS);
        MemorySegment s = arena.allocate(JAVA_LONG, MAX_NDIMS);
        for (int i = 0; i < values.length; i++) s.setAtIndex(JAVA_LONG, i, values[i]);
        return s;
    }

    // ---- library information -------------------------------------------------------------

    /** "3.13.0 (git 1b2c3d4)". */
    static String version() {
        MemorySegment v = dnnl_version().reinterpret(dnnl_version_t.sizeof());
        String hash = dnnl_version_t.hash(v).reinterpret(64).getString(0);
        return dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v) + " (git " + hash + ")";
    }

    /** The CPU threading runtime oneDNN was built with: OpenMP, TBB, ... */
    static String cpuRuntime() {
        int r = dnnl_version_t.cpu_runtime(dnnl_version().reinterpret(dnnl_version_t.sizeof()));
        if (r == DNNL_RUNTIME_OMP()) return "OpenMP";
        if (r == DNNL_RUNTIME_TBB()) return "TBB";
        if (r == DNNL_RUNTIME_SEQ()) return "sequential";
        if (r == DNNL_RUNTIME_THREADPOOL()) return "threadpool";
        if (r == DNNL_RUNTIME_NONE()) return "none";
        return "runtime " + r;
    }

    /** The ISA oneDNN's JIT targets here, by its C name without the prefix (avx512_core_amx, ...). */
    static String effectiveCpuIsa() {
        int isa = dnnl_get_effective_cpu_isa();
        String[] names = {"sse41", "avx", "avx2", "avx2_vnni", "avx2_vnni_2", "avx512_core", "avx512_core_vnni",
                "avx512_core_bf16", "avx10_1_512", "avx512_core_fp16", "avx10_1_512_amx", "avx512_core_amx",
                "avx10_1_512_amx_fp16", "avx512_core_amx_fp16", "avx10_2", "avx10_2_512", "avx10_2_amx_2",
                "avx10_2_512_amx_2", "default"};
        int[] values = {dnnl_cpu_isa_sse41(), dnnl_cpu_isa_avx(), dnnl_cpu_isa_avx2(), dnnl_cpu_isa_avx2_vnni(),
                dnnl_cpu_isa_avx2_vnni_2(), dnnl_cpu_isa_avx512_core(), dnnl_cpu_isa_avx512_core_vnni(),
                dnnl_cpu_isa_avx512_core_bf16(), dnnl_cpu_isa_avx10_1_512(), dnnl_cpu_isa_avx512_core_fp16(),
                dnnl_cpu_isa_avx10_1_512_amx(), dnnl_cpu_isa_avx512_core_amx(), dnnl_cpu_isa_avx10_1_512_amx_fp16(),
                dnnl_cpu_isa_avx512_core_amx_fp16(), dnnl_cpu_isa_avx10_2(), dnnl_cpu_isa_avx10_2_512(),
                dnnl_cpu_isa_avx10_2_amx_2(), dnnl_cpu_isa_avx10_2_512_amx_2(), dnnl_cpu_isa_default()};
        // Some names are aliases of one value (avx10_1_512 = avx512_core_fp16): the later, better-known name wins.
        String found = null;
        for (int i = 0; i < values.length; i++) if (values[i] == isa) found = names[i];
        return found != null ? found : "isa 0x" + Integer.toHexString(isa);
    }

    // ---- handles ---------------------------------------------------------------------------

    /** A oneDNN object: usable until {@link #close()}, which destroys it exactly once. */
    abstract static class Handle implements AutoCloseable {
        private final String what;
        private MemorySegment handle;   // null once closed

        Handle(String what, MemorySegment handle) {
            this.what = what;
            this.handle = handle;
        }

        /** The C handle; throws {@link IllegalStateException} once closed. */
        final MemorySegment handle() {
            MemorySegment h = handle;
            if (h == null) throw new IllegalStateException(what + " is closed");
            return h;
        }

        final boolean isClosed() { return handle == null; }

        abstract int destroy(MemorySegment handle);

        abstract String destroyFunction();

        @Override public final synchronized void close() {
            MemorySegment h = handle;
            if (h == null) return;
            handle = null;
            check(destroy(h), destroyFunction());
        }

        @Override public String toString() { return what + (handle == null ? " (closed)" : ""); }
    }

    /** {@code dnnl_engine_t}. */
    static final class Engine extends Handle {
        private Engine(MemorySegment h) { super("dnnl engine", h); }

        static Engine cpu() {
            return new Engine(create("dnnl_engine_create", "cpu engine 0", s -> dnnl_engine_create(s, dnnl_cpu(), 0L)));
        }

        @Override int destroy(MemorySegment h) { return dnnl_engine_destroy(h); }

        @Override String destroyFunction() { return "dnnl_engine_destroy"; }
    }

    /** {@code dnnl_stream_t}: in order; not for two executions at once, so leased per execution ({@link StreamPool}). */
    static final class Stream extends Handle {
        Stream(Engine engine) {
            super("dnnl stream", create("dnnl_stream_create", "default flags",
                    s -> dnnl_stream_create(s, engine.handle(), dnnl_stream_default_flags())));
        }

        void await() { check(dnnl_stream_wait(handle()), "dnnl_stream_wait"); }

        @Override int destroy(MemorySegment h) { return dnnl_stream_destroy(h); }

        @Override String destroyFunction() { return "dnnl_stream_destroy"; }
    }

    /** {@code dnnl_memory_desc_t}: shape, data type and layout; owned (created or cloned) by us. */
    static final class MemoryDesc extends Handle {
        private MemoryDesc(MemorySegment h) { super("dnnl memory descriptor", h); }

        /** A descriptor with a format tag ({@code dnnl_abcd}, {@code dnnl_format_tag_any}, ...). */
        static MemoryDesc of(long[] dims, int dataType, int tag) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment d = dims(a, dims);
                return new MemoryDesc(create("dnnl_memory_desc_create_with_tag", "dims " + Arrays.toString(dims)
                        + ", tag " + tag, s -> dnnl_memory_desc_create_with_tag(s, dims.length, d, dataType, tag)));
            }
        }

        /** A copy of a descriptor owned by someone else (a primitive descriptor's query result). */
        static MemoryDesc copyOf(MemorySegment md) {
            return new MemoryDesc(create("dnnl_memory_desc_clone", "", s -> dnnl_memory_desc_clone(s, md)));
        }

        /** Bytes a memory of this descriptor needs (0 for an empty descriptor). */
        long byteSize() { return dnnl_memory_desc_get_size(handle()); }

        boolean sameAs(MemoryDesc other) { return dnnl_memory_desc_equal(handle(), other.handle()) != 0; }

        int ndims() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment n = a.allocate(JAVA_INT);
                check(dnnl_memory_desc_query(handle(), dnnl_query_ndims_s32(), n), "dnnl_memory_desc_query", "ndims");
                return n.get(JAVA_INT, 0);
            }
        }

        /**
         * The layout as oneDNN's verbose mode writes it: dimensions as letters ordered outer to inner,
         * blocked ones in capitals, then the inner blocks: {@code abcd} is plain NCHW, {@code aBcd16b}
         * is nChw16c, {@code Acdb16a} is Ohwi16o. "opaque" when the layout is not a blocked one.
         */
        String layout() {
            int n = ndims();
            if (n == 0) return "empty";
            try (Arena a = Arena.ofConfined()) {
                MemorySegment slot = a.allocate(ADDRESS);
                if (dnnl_memory_desc_query(handle(), dnnl_query_strides(), slot) != dnnl_success()
                        || slot.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
                    return "opaque";
                }
                long[] strides = slot.get(ADDRESS, 0).reinterpret(8L * MAX_NDIMS).toArray(JAVA_LONG);
                MemorySegment count = a.allocate(JAVA_INT);
                check(dnnl_memory_desc_query(handle(), dnnl_query_inner_nblks_s32(), count), "dnnl_memory_desc_query", "inner_nblks");
                int blocks = count.get(JAVA_INT, 0);
                long[] blks = new long[0], idxs = new long[0];
                if (blocks > 0) {
                    check(dnnl_memory_desc_query(handle(), dnnl_query_inner_blks(), slot), "dnnl_memory_desc_query", "inner_blks");
                    blks = slot.get(ADDRESS, 0).reinterpret(8L * MAX_NDIMS).toArray(JAVA_LONG);
                    check(dnnl_memory_desc_query(handle(), dnnl_query_inner_idxs(), slot), "dnnl_memory_desc_query", "inner_idxs");
                    idxs = slot.get(ADDRESS, 0).reinterpret(8L * MAX_NDIMS).toArray(JAVA_LONG);
                }
                boolean[] blocked = new boolean[n];
                for (int i = 0; i < blocks; i++) blocked[(int) idxs[i]] = true;
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < n; i++) order.add(i);
                order.sort((x, y) -> strides[x] != strides[y] ? Long.compare(strides[y], strides[x]) : Integer.compare(x, y));
                StringBuilder s = new StringBuilder();
                for (int i : order) s.append(blocked[i] ? (char) ('A' + i) : (char) ('a' + i));
                for (int i = 0; i < blocks; i++) s.append(blks[i]).append((char) ('a' + idxs[i]));
                return s.toString();
            }
        }

        @Override int destroy(MemorySegment h) { return dnnl_memory_desc_destroy(h); }

        @Override String destroyFunction() { return "dnnl_memory_desc_destroy"; }
    }

    /** {@code dnnl_memory_t}: a descriptor bound to a data pointer, which may change per call. */
    static final class Memory extends Handle {
        /** A memory over {@code data}, or over nothing yet when {@code data} is {@code DNNL_MEMORY_NONE}. */
        Memory(MemoryDesc md, Engine engine, MemorySegment data) {
            super("dnnl memory", create("dnnl_memory_create", "",
                    s -> dnnl_memory_create(s, md.handle(), engine.handle(), data)));
        }

        /** Points this memory at {@code data}; the hot path: no allocation. */
        void setData(MemorySegment data) {
            int status = dnnl_memory_set_data_handle(handle(), data);
            if (status != dnnl_success()) check(status, "dnnl_memory_set_data_handle");
        }

        @Override int destroy(MemorySegment h) { return dnnl_memory_destroy(h); }

        @Override String destroyFunction() { return "dnnl_memory_destroy"; }
    }

    /** One eltwise post-op: {@code dnnl_eltwise_*} algorithm and its alpha and beta. */
    record Eltwise(int algorithm, float alpha, float beta) {}

    /** {@code dnnl_primitive_attr_t}. */
    static final class Attr extends Handle {
        private Attr(MemorySegment h) { super("dnnl primitive attribute", h); }

        /**
         * Attributes with {@code dnnl_scratchpad_mode_user}: each execution passes its own scratchpad,
         * so a primitive may run on any thread (the library's scratchpad is per thread and per library).
         */
        static Attr userScratchpad() {
            Attr attr = new Attr(create("dnnl_primitive_attr_create", "", s -> dnnl_primitive_attr_create(s)));
            try {
                check(dnnl_primitive_attr_set_scratchpad_mode(attr.handle(), dnnl_scratchpad_mode_user()),
                        "dnnl_primitive_attr_set_scratchpad_mode", "dnnl_scratchpad_mode_user");
            } catch (RuntimeException e) {
                attr.close();
                throw e;
            }
            return attr;
        }

        /**
         * {@link #userScratchpad()} plus eltwise post-ops applied, in order, to the primitive's result
         * before it is written (https://uxlfoundation.github.io/oneDNN/dev_guide_attributes_post_ops.html).
         */
        static Attr userScratchpad(List<Eltwise> postOps) {
            Attr attr = userScratchpad();
            MemorySegment ops = null;
            try {
                ops = create("dnnl_post_ops_create", "", s -> dnnl_post_ops_create(s));
                for (Eltwise e : postOps) {
                    check(dnnl_post_ops_append_eltwise(ops, e.algorithm(), e.alpha(), e.beta()), "dnnl_post_ops_append_eltwise", e);
                }
                check(dnnl_primitive_attr_set_post_ops(attr.handle(), ops), "dnnl_primitive_attr_set_post_ops", postOps);
            } catch (RuntimeException e) {
                attr.close();
                throw e;
            } finally {
                if (ops != null) check(dnnl_post_ops_destroy(ops), "dnnl_post_ops_destroy");   // the attribute keeps a copy
            }
            return attr;
        }

        @Override int destroy(MemorySegment h) { return dnnl_primitive_attr_destroy(h); }

        @Override String destroyFunction() { return "dnnl_primitive_attr_destroy"; }
    }

    /** {@code dnnl_primitive_desc_t}: an operation and the implementation oneDNN chose for it. */
    static final class PrimitiveDesc extends Handle {
        /** Wraps the handle a {@code dnnl_*_primitive_desc_create} call wrote. */
        static PrimitiveDesc create(String function, Object detail, Creator creator) {
            return new PrimitiveDesc(Dnnl.create(function, detail, creator));
        }

        private PrimitiveDesc(MemorySegment h) { super("dnnl primitive descriptor", h); }

        /** A copy of the descriptor the primitive wants for execution argument {@code arg} (DNNL_ARG_*). */
        MemoryDesc argMd(int arg) {
            MemorySegment md = dnnl_primitive_desc_query_md(handle(), dnnl_query_exec_arg_md(), arg);
            if (md.equals(MemorySegment.NULL)) {
                throw new DnnlException("dnnl_primitive_desc_query_md", dnnl_invalid_arguments(), "no memory for argument " + arg);
            }
            return MemoryDesc.copyOf(md);
        }

        /** The implementation's name: "brg_conv_fwd:avx512_core", "jit:avx512_core", "gemm:jit", ... */
        String implementation() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment slot = a.allocate(ADDRESS);
                check(dnnl_primitive_desc_query(handle(), dnnl_query_impl_info_str(), 0, slot), "dnnl_primitive_desc_query", "impl_info_str");
                return slot.get(ADDRESS, 0).reinterpret(256).getString(0);
            }
        }

        @Override int destroy(MemorySegment h) { return dnnl_primitive_desc_destroy(h); }

        @Override String destroyFunction() { return "dnnl_primitive_desc_destroy"; }
    }

    /** {@code dnnl_primitive_t}: compiled once, executed many times, on any thread with its own scratchpad. */
    static final class Primitive extends Handle {
        private final String name;

        Primitive(PrimitiveDesc pd, String name) {
            super("dnnl primitive " + name, create("dnnl_primitive_create", name, s -> dnnl_primitive_create(s, pd.handle())));
            this.name = name;
        }

        /** Runs with {@code nargs} {@code dnnl_exec_arg_t} entries at {@code args}; the hot path: no allocation. */
        void execute(Stream stream, int nargs, MemorySegment args) {
            int status = dnnl_primitive_execute(handle(), stream.handle(), nargs, args);
            if (status != dnnl_success()) check(status, "dnnl_primitive_execute", name);
        }

        @Override int destroy(MemorySegment h) { return dnnl_primitive_destroy(h); }

        @Override String destroyFunction() { return "dnnl_primitive_destroy"; }
    }
}
