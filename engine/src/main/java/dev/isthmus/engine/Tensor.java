package dev.isthmus.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional array whose memory lives off the Java heap, on a {@link Device}, in a
 * {@link Layout}: plain row-major (NCHW for images, NC for features) unless a backend keeps it
 * in its own (oneDNN's blocked layouts) between its ops. Reads and writes of plain data
 * ({@link #toFloatArray}, {@link #copyFrom(float[])}, {@link #copyTo}, {@link #copyFromHost})
 * convert such a tensor once per call and count it ({@link #conversionCount()}); {@link #get}
 * and {@link #set} address the element where the layout put it.
 *
 * <p>A tensor either owns its {@link Storage} (and frees it on {@link #close()}) or is a
 * view into another tensor (a parameter slab sliced per layer); a view never frees and
 * becomes unusable when its parent closes. Any use after close throws
 * {@link IllegalStateException}; nothing reaches native code with freed memory.
 *
 * <p>Not thread-safe for close: do not close a tensor while another thread uses it.
 */
public final class Tensor implements AutoCloseable {
    private final Shape shape;
    private final DType dtype;
    private final Storage storage;
    private final long byteOffset;
    private final Tensor parent;           // non-null for views
    private final MemorySegment segment;   // cached host slice; null on devices
    private final Layout layout;
    private volatile boolean closed;
    /** Conversions between a backend's layout and plain data, all tensors and threads together. */
    private static final java.util.concurrent.atomic.LongAdder CONVERSIONS = new java.util.concurrent.atomic.LongAdder();

    private Tensor(Shape shape, DType dtype, Storage storage, long byteOffset, Tensor parent) {
        this(shape, dtype, storage, byteOffset, parent, Layout.PLAIN);
    }

    private Tensor(Shape shape, DType dtype, Storage storage, long byteOffset, Tensor parent, Layout layout) {
        if (layout == null) throw new IllegalArgumentException("layout is null");
        this.layout = layout;
        long bytes = layout.byteSize(shape, dtype);
        if (byteOffset < 0 || byteOffset + bytes > storage.byteSize()) {
            throw new IllegalArgumentException("tensor " + shape + " " + dtype + " at byte " + byteOffset
                    + " does not fit in storage of " + storage.byteSize() + " bytes");
        }
        this.shape = shape;
        this.dtype = dtype;
        this.storage = storage;
        this.byteOffset = byteOffset;
        this.parent = parent;
        this.segment = storage.device().isHost() ? storage.hostSegment().asSlice(byteOffset, bytes) : null;
    }

    /** A new host tensor of zeros with its own memory. */
    public static Tensor allocate(Shape shape, DType dtype) {
        return new Tensor(shape, dtype, HostStorage.allocate(shape.elements() * dtype.byteSize()), 0, null);
    }

    /** A new float32 host tensor of zeros. */
    public static Tensor zeros(int... dims) {
        return allocate(Shape.of(dims), DType.F32);
    }

    /** A new host tensor whose memory belongs to {@code arena} (freed when the arena closes). */
    public static Tensor allocate(Arena arena, Shape shape, DType dtype) {
        return new Tensor(shape, dtype, HostStorage.allocate(arena, shape.elements() * dtype.byteSize()), 0, null);
    }

    /** A new zeroed host tensor in {@code layout} (a backend's own, or plain), with its own memory. */
    public static Tensor allocate(Shape shape, DType dtype, Layout layout) {
        if (!layout.isPlain() && dtype != DType.F32) {
            throw new IllegalArgumentException("layout " + layout.name() + " is for F32 tensors, got " + dtype + " " + shape);
        }
        return new Tensor(shape, dtype, HostStorage.allocate(layout.byteSize(shape, dtype)), 0, null, layout);
    }

    /** Conversions to or from plain data made by tensors in a backend's layout so far (all threads). */
    public static long conversionCount() { return CONVERSIONS.sum(); }

    /** A tensor on any device over a storage it now owns (for backends). */
    public static Tensor onStorage(Storage storage, Shape shape, DType dtype) {
        return new Tensor(shape, dtype, storage, 0, null);
    }

    /** A float32 host tensor holding a copy of {@code values}. */
    public static Tensor of(float[] values, int... dims) {
        Shape shape = Shape.of(dims);
        if (values.length != shape.elements()) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + shape);
        }
        Tensor t = allocate(shape, DType.F32);
        t.copyFrom(values);
        return t;
    }

    /** An int32 host tensor holding a copy of {@code values}, shape [values.length]. */
    public static Tensor ofInts(int[] values) {
        Tensor t = allocate(Shape.of(values.length), DType.S32);
        MemorySegment.copy(values, 0, t.segment(), ValueLayout.JAVA_INT, 0, values.length);
        return t;
    }

    /** A host tensor over memory that someone else owns and frees. */
    public static Tensor wrap(MemorySegment segment, Shape shape, DType dtype) {
        return new Tensor(shape, dtype, HostStorage.wrap(segment), 0, null);
    }

    /** A view of {@code shape} starting {@code elementOffset} elements into this tensor. */
    public Tensor view(long elementOffset, Shape shape) {
        checkOpen();
        requirePlain("a view");
        long bytes = shape.elements() * dtype.byteSize();
        long start = byteOffset + elementOffset * dtype.byteSize();
        if (elementOffset < 0 || elementOffset + shape.elements() > this.shape.elements()) {
            throw new IllegalArgumentException("view " + shape + " at element " + elementOffset
                    + " does not fit in tensor " + this.shape + " (" + this.shape.elements() + " elements, "
                    + bytes + " bytes asked)");
        }
        return new Tensor(shape, dtype, storage, start, this);
    }

    /**
     * This tensor's memory seen in {@code layout}, for a layout that takes exactly as many bytes (no
     * padding): the bytes are reinterpreted, not converted, so callers write the data after (a
     * parameter laid out for a plan in the slab it already occupies). A view: it never frees.
     */
    public Tensor viewIn(Layout layout) {
        checkOpen();
        requirePlain("a view in another layout");
        if (layout.byteSize(shape, dtype) != byteSize()) {
            throw new IllegalArgumentException("layout " + layout.name() + " takes " + layout.byteSize(shape, dtype)
                    + " bytes for " + shape + ", not the " + byteSize() + " this tensor has");
        }
        return new Tensor(shape, dtype, storage, byteOffset, this, layout);
    }

    /** The same memory under another shape with the same element count. */
    public Tensor reshape(Shape shape) {
        requirePlain("a reshape");
        if (shape.elements() != this.shape.elements()) {
            throw new IllegalArgumentException("cannot reshape " + this.shape + " (" + this.shape.elements()
                    + " elements) to " + shape + " (" + shape.elements() + " elements)");
        }
        return view(0, shape);
    }

    public Shape shape() { return shape; }

    public DType dtype() { return dtype; }

    public Device device() { return storage.device(); }

    public long elements() { return shape.elements(); }

    /** Bytes in memory: {@code elements() * dtype size} in plain layout, more where a backend's layout pads. */
    public long byteSize() { return layout.byteSize(shape, dtype); }

    /** Where the elements lie: {@link Layout#PLAIN} unless a backend keeps this tensor in its own. */
    public Layout layout() { return layout; }

    /** Bytes of this tensor's data in plain layout. */
    public long plainByteSize() { return shape.elements() * dtype.byteSize(); }

    /** Offset of this tensor's first byte in its storage (non-zero for views). */
    public long byteOffset() { return byteOffset; }

    /** The storage, for backends that work on device buffers. */
    public Storage storage() {
        checkOpen();
        return storage;
    }

    /** This tensor's host memory. Throws if closed or if the tensor lives on a GPU. */
    public MemorySegment segment() {
        checkOpen();
        if (segment == null) {
            throw new IllegalStateException("tensor " + shape + " lives on " + device()
                    + "; copy it to the host with toFloatArray() or copyTo()");
        }
        return segment;
    }

    public boolean isClosed() {
        for (Tensor t = this; t != null; t = t.parent) if (t.closed) return true;
        return false;
    }

    public void checkOpen() {
        if (closed) throw new IllegalStateException("tensor " + shape + " " + dtype + " is closed");
        for (Tensor p = parent; p != null; p = p.parent) {
            if (p.closed) throw new IllegalStateException("tensor " + shape + " is a view of a closed tensor " + p.shape);
        }
    }

    public void copyFrom(float[] values) {
        requireType(DType.F32);
        requireLength(values.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(plainByteSize(), HostStorage.ALIGNMENT);
            MemorySegment.copy(values, 0, tmp, ValueLayout.JAVA_FLOAT, 0, values.length);
            copyFromHost(tmp);
        }
    }

    public void copyFrom(int[] values) {
        requireType(DType.S32);
        requireLength(values.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(plainByteSize(), HostStorage.ALIGNMENT);
            MemorySegment.copy(values, 0, tmp, ValueLayout.JAVA_INT, 0, values.length);
            copyFromHost(tmp);
        }
    }

    /** Copies {@code plainByteSize()} bytes of plain (row-major) host data into this tensor, converting to its layout. */
    public void copyFromHost(MemorySegment src) {
        checkOpen();
        if (src.byteSize() != plainByteSize()) {
            throw new IllegalArgumentException("copy of " + src.byteSize() + " bytes into tensor " + shape
                    + " of " + plainByteSize() + " bytes");
        }
        if (layout.isPlain()) {
            storage.copyIn(byteOffset, src);
        } else {
            layout.fromPlain(shape, src, segment());
            CONVERSIONS.increment();
        }
    }

    /**
     * Copies this tensor into {@code dst} of the same shape and type, across devices if needed, and
     * across layouts: a tensor in a backend's layout converts (once, counted) into a plain one and back.
     */
    public void copyTo(Tensor dst) {
        checkOpen();
        dst.checkOpen();
        if (!dst.shape.equals(shape) || dst.dtype != dtype) {
            throw new IllegalArgumentException("copy from " + shape + " " + dtype + " to " + dst.shape + " " + dst.dtype);
        }
        if (!layout.equals(dst.layout)) {
            copyAcrossLayouts(dst);
            return;
        }
        if (dst.segment != null) {
            storage.copyOut(byteOffset, dst.segment);
        } else if (segment != null) {
            dst.storage.copyIn(dst.byteOffset, segment);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(byteSize(), HostStorage.ALIGNMENT);
                storage.copyOut(byteOffset, tmp);
                dst.storage.copyIn(dst.byteOffset, tmp);
            }
        }
    }

    private void copyAcrossLayouts(Tensor dst) {
        if (!layout.isPlain() && dst.layout.isPlain() && dst.segment != null) {
            layout.toPlain(shape, segment(), dst.segment);
            CONVERSIONS.increment();
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            dst.copyFromHost(hostPlainCopy(a));   // converts into dst's layout when it is not plain
        }
    }

    /** This tensor's data as plain host memory: itself when plain on the host, else a converted copy in {@code a}. */
    private MemorySegment hostPlainCopy(Arena a) {
        checkOpen();
        if (layout.isPlain()) return hostCopy(a);
        MemorySegment tmp = a.allocate(plainByteSize(), HostStorage.ALIGNMENT);
        layout.toPlain(shape, segment(), tmp);
        CONVERSIONS.increment();
        return tmp;
    }

    public float[] toFloatArray() {
        requireType(DType.F32);
        float[] out = new float[Math.toIntExact(elements())];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = hostPlainCopy(a);
            MemorySegment.copy(tmp, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
        return out;
    }

    public int[] toIntArray() {
        requireType(DType.S32);
        int[] out = new int[Math.toIntExact(elements())];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = hostCopy(a);
            MemorySegment.copy(tmp, ValueLayout.JAVA_INT, 0, out, 0, out.length);
        }
        return out;
    }

    private MemorySegment hostCopy(Arena a) {
        checkOpen();
        if (segment != null) return segment;
        requirePlain("a copy to the host");
        MemorySegment tmp = a.allocate(plainByteSize(), HostStorage.ALIGNMENT);
        storage.copyOut(byteOffset, tmp);
        return tmp;
    }

    /** Sets every float32 element to {@code value} (host tensors). */
    public void fill(float value) {
        requireType(DType.F32);
        MemorySegment s = segment();
        if (value == 0f) {
            s.fill((byte) 0);
            return;
        }
        if (!layout.isPlain()) {   // element by element, so that a layout's padding stays zero
            for (long i = 0, n = elements(); i < n; i++) set(i, value);
            return;
        }
        for (long i = 0, n = elements(); i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
    }

    /** Element {@code i} (row-major index) of a host float32 tensor, for tests and small reads; in any layout. */
    public float get(long i) {
        checkIndex(i);
        return segment().getAtIndex(ValueLayout.JAVA_FLOAT, layout.offsetOf(shape, i));
    }

    /** Sets element {@code i} (row-major index) of a host float32 tensor, in any layout. */
    public void set(long i, float value) {
        checkIndex(i);
        segment().setAtIndex(ValueLayout.JAVA_FLOAT, layout.offsetOf(shape, i), value);
    }

    private void checkIndex(long i) {
        if (i < 0 || i >= elements()) throw new IndexOutOfBoundsException("index " + i + " outside tensor " + shape);
    }

    /**
     * Throws unless this tensor is in {@code expected} layout; the message names both. For ops that
     * take one layout only: a tensor in another is a mistake, not something to reinterpret.
     */
    public Tensor requireLayout(Layout expected, String what) {
        if (!layout.equals(expected)) {
            throw new IllegalArgumentException(what + ": tensor " + shape + " is in layout " + layout.name()
                    + ", expected " + expected.name());
        }
        return this;
    }

    private void requirePlain(String what) {
        if (!layout.isPlain()) {
            throw new IllegalStateException(what + " of tensor " + shape + " in layout " + layout.name()
                    + " is not defined; copy it to a plain tensor (copyTo) first");
        }
    }

    /** Throws unless this tensor has {@code expected}'s shape; {@code what} names it in the message. */
    public Tensor requireShape(Shape expected, String what) {
        checkOpen();
        if (!shape.equals(expected)) {
            throw new IllegalArgumentException(what + ": tensor has shape " + shape + ", expected " + expected);
        }
        return this;
    }

    private void requireType(DType expected) {
        if (dtype != expected) throw new IllegalArgumentException("tensor " + shape + " is " + dtype + ", expected " + expected);
    }

    private void requireLength(int length) {
        if (length != elements()) {
            throw new IllegalArgumentException(length + " values for tensor " + shape + " of " + elements() + " elements");
        }
    }

    /** Frees the memory if this tensor owns it; a view only becomes unusable. Idempotent. */
    @Override public void close() {
        if (closed) return;
        closed = true;
        if (parent == null) storage.close();
    }

    @Override public String toString() {
        String s = "Tensor" + shape + " " + dtype + " on " + device() + (layout.isPlain() ? "" : " in " + layout.name());
        if (closed) return s + " (closed)";
        if (segment != null && elements() <= 8 && dtype == DType.F32) s += " " + Arrays.toString(toFloatArray());
        return s;
    }
}
