package dev.isthmus.engine;

import java.lang.foreign.MemorySegment;

/**
 * How a tensor's elements lie in its memory. The public contract is {@link #PLAIN}: row-major
 * (NCHW, OIHW, NC). A backend may keep tensors between its own ops in a layout of its own
 * (oneDNN's blocked {@code aBcd16b}, which pads channels to 16); such a tensor converts to plain
 * only when plain data is asked for (reads, writes from arrays, checkpoints, a hand-over to a
 * plain tensor or another backend), and each conversion is counted ({@link Tensor#conversionCount()}).
 *
 * <p>Layouts are values: two are equal when they place every element at the same offset.
 * Mixing layouts by mistake is an exception that names both, never a silent reinterpretation.
 */
public interface Layout {
    /** Row-major: element i of the shape's row-major order at offset i. */
    Layout PLAIN = Plain.INSTANCE;

    boolean isPlain();

    /** "plain", "dnnl aBcd16b": for messages and reports. */
    String name();

    /** Bytes a tensor of {@code shape} and {@code dtype} takes in this layout (with any padding). */
    long byteSize(Shape shape, DType dtype);

    /** The element offset in memory of the element at row-major index {@code index}. */
    long offsetOf(Shape shape, long index);

    /** Writes {@code src} (this layout) into {@code plain} (row-major, {@code shape.elements()} floats). */
    void toPlain(Shape shape, MemorySegment src, MemorySegment plain);

    /** Writes {@code plain} (row-major floats) into {@code dst} (this layout); padding is left as it is (zero). */
    void fromPlain(Shape shape, MemorySegment plain, MemorySegment dst);

    /** Row-major. */
    final class Plain implements Layout {
        static final Plain INSTANCE = new Plain();

        private Plain() {}

        @Override public boolean isPlain() { return true; }

        @Override public String name() { return "plain"; }

        @Override public long byteSize(Shape shape, DType dtype) { return shape.elements() * dtype.byteSize(); }

        @Override public long offsetOf(Shape shape, long index) { return index; }

        @Override public void toPlain(Shape shape, MemorySegment src, MemorySegment plain) {
            MemorySegment.copy(src, 0, plain, 0, shape.elements() * 4);
        }

        @Override public void fromPlain(Shape shape, MemorySegment plain, MemorySegment dst) {
            MemorySegment.copy(plain, 0, dst, 0, shape.elements() * 4);
        }

        @Override public String toString() { return "plain"; }
    }
}
