package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A oneDNN blocked layout (https://uxlfoundation.github.io/oneDNN/dev_guide_understanding_memory_formats.html)
 * as a tensor's {@link Layout}: the memory descriptor a primitive chose for an f32 argument, such as
 * {@code aBcd16b} (nChw16c: channels in blocks of 16, padded with zeros) or {@code Acdb16a} (weights).
 *
 * <p>The blocking is copied into Java at creation (dims, padded dims, outer strides, inner blocks),
 * so offsets and conversions to and from plain need no native call and no descriptor that could be
 * freed before the tensor; the descriptor itself ({@link #md()}) belongs to the backend, which keeps
 * one per distinct layout (interned: equal layouts are usually the same object) until it closes.
 * Offsets follow oneDNN's {@code memory_desc_wrapper::off_v}: inner blocks from the innermost, then
 * the outer strides.
 */
public final class DnnlLayout implements Layout {
    private final long[] dims, paddedDims, strides, blocks;
    private final int[] blockDims;
    private final long bytes;
    private final String tag;
    private final Dnnl.MemoryDesc md;   // owned by the backend

    private DnnlLayout(long[] dims, long[] paddedDims, long[] strides, long[] blocks, int[] blockDims, long bytes,
                       String tag, Dnnl.MemoryDesc md) {
        this.dims = dims;
        this.paddedDims = paddedDims;
        this.strides = strides;
        this.blocks = blocks;
        this.blockDims = blockDims;
        this.bytes = bytes;
        this.tag = tag;
        this.md = md;
    }

    /** The layout of {@code md} (an f32 blocked descriptor, which this layout then owns); throws for opaque ones. */
    static DnnlLayout of(Dnnl.MemoryDesc md) {
        try (Arena a = Arena.ofConfined()) {
            int n = md.ndims();
            if (md.layout().equals("opaque")) {   // no strides: not a blocked layout (the bindings lack dnnl_blocked)
                throw new IllegalArgumentException("memory descriptor is not a blocked layout");
            }
            long[] dims = query(a, md, dnnl_query_dims(), n);
            long[] padded = query(a, md, dnnl_query_padded_dims(), n);
            long[] strides = query(a, md, dnnl_query_strides(), n);
            MemorySegment count = a.allocate(JAVA_INT);
            Dnnl.check(dnnl_memory_desc_query(md.handle(), dnnl_query_inner_nblks_s32(), count), "dnnl_memory_desc_query", "inner_nblks");
            int nblks = count.get(JAVA_INT, 0);
            long[] blocks = nblks == 0 ? new long[0] : query(a, md, dnnl_query_inner_blks(), nblks);
            long[] idxs = nblks == 0 ? new long[0] : query(a, md, dnnl_query_inner_idxs(), nblks);
            int[] blockDims = new int[nblks];
            for (int i = 0; i < nblks; i++) blockDims[i] = (int) idxs[i];
            return new DnnlLayout(dims, padded, strides, blocks, blockDims, md.byteSize(), md.layout(), md);
        }
    }

    private static long[] query(Arena a, Dnnl.MemoryDesc md, int what, int n) {
        MemorySegment slot = a.allocate(ADDRESS);
        Dnnl.check(dnnl_memory_desc_query(md.handle(), what, slot), "dnnl_memory_desc_query", "query " + what);
        return Arrays.copyOf(slot.get(ADDRESS, 0).reinterpret(8L * Dnnl.MAX_NDIMS).toArray(JAVA_LONG), n);
    }

    /** The descriptor, for creating primitives and reorders on it; valid while the backend is open. */
    Dnnl.MemoryDesc md() { return md; }

    /** The dimensions this layout is for. */
    long[] dims() { return dims.clone(); }

    /** oneDNN's name of the layout, "aBcd16b". */
    public String tag() { return tag; }

    @Override public boolean isPlain() { return false; }

    @Override public String name() { return "dnnl " + tag + " " + Arrays.toString(dims); }

    @Override public long byteSize(Shape shape, DType dtype) {
        requireShape(shape);
        if (dtype != DType.F32) throw new IllegalArgumentException(name() + " holds F32 tensors, got " + dtype);
        return bytes;
    }

    @Override public long offsetOf(Shape shape, long index) {
        requireShape(shape);
        long[] pos = new long[dims.length];
        for (int d = dims.length - 1; d >= 0; d--) {
            pos[d] = index % dims[d];
            index /= dims[d];
        }
        return offset(pos);
    }

    /** oneDNN's off_v: inner blocks innermost first, then each dimension's outer index times its stride. */
    private long offset(long[] pos) {
        long offset = 0, blockStride = 1;
        long[] outer = pos;
        if (blocks.length > 0) {
            outer = pos.clone();
            for (int b = blocks.length - 1; b >= 0; b--) {
                int d = blockDims[b];
                offset += (outer[d] % blocks[b]) * blockStride;
                outer[d] /= blocks[b];
                blockStride *= blocks[b];
            }
        }
        for (int d = 0; d < dims.length; d++) offset += outer[d] * strides[d];
        return offset;
    }

    @Override public void toPlain(Shape shape, MemorySegment src, MemorySegment plain) {
        requireShape(shape);
        long[] pos = new long[dims.length];
        for (long i = 0, n = shape.elements(); i < n; i++) {
            plain.setAtIndex(JAVA_FLOAT, i, src.getAtIndex(JAVA_FLOAT, offset(pos)));
            increment(pos);
        }
    }

    @Override public void fromPlain(Shape shape, MemorySegment plain, MemorySegment dst) {
        requireShape(shape);
        long[] pos = new long[dims.length];
        for (long i = 0, n = shape.elements(); i < n; i++) {
            dst.setAtIndex(JAVA_FLOAT, offset(pos), plain.getAtIndex(JAVA_FLOAT, i));
            increment(pos);
        }
    }

    /** The next row-major position. */
    private void increment(long[] pos) {
        for (int d = pos.length - 1; d >= 0; d--) {
            if (++pos[d] < dims[d]) return;
            pos[d] = 0;
        }
    }

    /**
     * The tensor's shape must be the layout's dims or another view of the same row-major order, so that
     * row-major indices agree: grouped weights (G, OC/G, IC/G, KH, KW) declared (OC, IC/G, KH, KW), and
     * linear weights (OC, C, H, W) declared (OC, IC).
     */
    private void requireShape(Shape shape) {
        if (shape.rank() == dims.length) {
            for (int i = 0; i < dims.length; i++) if (shape.dim(i) != dims[i]) throw mismatch(shape);
            return;
        }
        long elements = 1;
        for (long d : dims) elements *= d;
        boolean grouped = shape.rank() + 1 == dims.length && dims[0] * dims[1] == shape.dim(0);
        boolean flattened = shape.rank() == 2 && dims.length > 2 && shape.dim(0) == dims[0];
        if (elements != shape.elements() || !(grouped || flattened)) throw mismatch(shape);
    }

    private IllegalArgumentException mismatch(Shape shape) {
        return new IllegalArgumentException("layout " + name() + " is for dims " + Arrays.toString(dims) + ", not " + shape);
    }

    /** Whether memory in this layout pads some dimension (its padded lanes must stay zero). */
    public boolean padded() { return !Arrays.equals(dims, paddedDims); }

    @Override public boolean equals(Object o) {
        return o == this || o instanceof DnnlLayout l && bytes == l.bytes && Arrays.equals(dims, l.dims)
                && Arrays.equals(paddedDims, l.paddedDims) && Arrays.equals(strides, l.strides)
                && Arrays.equals(blocks, l.blocks) && Arrays.equals(blockDims, l.blockDims);
    }

    @Override public int hashCode() { return Arrays.hashCode(dims) * 31 + Arrays.hashCode(strides) * 7 + Arrays.hashCode(blocks); }

    @Override public String toString() { return name(); }
}
