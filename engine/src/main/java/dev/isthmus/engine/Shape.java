package dev.isthmus.engine;

import java.util.Arrays;

/**
 * An immutable row-major shape, such as (N, C, H, W) = [64, 6, 28, 28].
 * Dimensions are positive ints; the element count is a long.
 */
public final class Shape {
    private final int[] dims;
    private final long elements;

    private Shape(int[] dims) {
        this.dims = dims;
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] <= 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims)
                        + ": dimension " + i + " is " + dims[i] + ", expected > 0");
            }
            n = Math.multiplyExact(n, dims[i]);
        }
        this.elements = n;
    }

    public static Shape of(int... dims) {
        if (dims.length == 0) throw new IllegalArgumentException("a shape needs at least one dimension");
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i]; }

    public int[] dims() { return dims.clone(); }

    public long elements() { return elements; }

    /** Dimensions as oneDNN's int64 dims. */
    public long[] longDims() {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) l[i] = dims[i];
        return l;
    }

    /** This shape without its first dimension, e.g. (N, C, H, W) to (C, H, W). */
    public Shape dropFirst() {
        if (dims.length < 2) throw new IllegalArgumentException("cannot drop the only dimension of " + this);
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** A new shape with {@code first} prepended, e.g. batch + (C, H, W). */
    public Shape prepend(int first) {
        int[] d = new int[dims.length + 1];
        d[0] = first;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return new Shape(d);
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() { return Arrays.toString(dims); }
}
