package dev.isthmus.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a raw image (8-bit pixels, p in [0, 255]) becomes a model's input, as a model file records
 * it: {@code pad} pixels of background (p = 0) on every side, then per channel c
 * {@code value = p * scale + offset[c]}. MNIST's LeNet-5 preprocessing (28x28 digits centred in
 * 32x32, background -0.1, ink 1.175) is {@link #mnist()}. Immutable and thread-safe.
 *
 * @param pad    background pixels added on each side
 * @param scale  the factor on the raw pixel
 * @param offset per channel, added after scaling (one value per input channel)
 */
public record Preprocessing(int pad, double scale, double[] offset) {
    public Preprocessing {
        if (pad < 0) throw new IllegalArgumentException("Preprocessing: pad must be >= 0, got " + pad);
        if (!Double.isFinite(scale) || scale == 0) throw new IllegalArgumentException("Preprocessing: scale must be finite and non-zero, got " + scale);
        if (offset == null || offset.length == 0) throw new IllegalArgumentException("Preprocessing: offset needs one value per channel");
        offset = offset.clone();
    }

    /** LeCun et al. 1998 for MNIST, as {@link dev.isthmus.nn.data.Mnist} applies it: pad 2, p/255*1.275 - 0.1. */
    public static Preprocessing mnist() { return new Preprocessing(2, 1.275 / 255, new double[] {-0.1}); }

    @Override public double[] offset() { return offset.clone(); }

    /** The model input value of raw pixel {@code p} in channel {@code c}. */
    public float value(int c, int p) { return (float) (p * scale + offset[c]); }

    /**
     * Writes the (C, H + 2 pad, W + 2 pad) input for raw pixels {@code raw} (C, H, W), row-major,
     * each in [0, 255], into {@code out}.
     */
    public void apply(int[] raw, int channels, int height, int width, float[] out) {
        if (channels != offset.length) {
            throw new IllegalArgumentException("the image has " + channels + " channels, the model's preprocessing expects " + offset.length);
        }
        int oh = height + 2 * pad, ow = width + 2 * pad;
        for (int c = 0; c < channels; c++) {
            Arrays.fill(out, c * oh * ow, (c + 1) * oh * ow, value(c, 0));
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    out[(c * oh + y + pad) * ow + x + pad] = value(c, raw[(c * height + y) * width + x]);
                }
            }
        }
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pad", pad);
        m.put("scale", scale);
        m.put("offset", offset.clone());
        return m;
    }

    static Preprocessing fromJson(Map<String, Object> m) {
        if (!(m.get("pad") instanceof Long pad) || !(m.get("scale") instanceof Number scale)
                || !(m.get("offset") instanceof List<?> offsets)) {
            throw new IllegalArgumentException("preprocessing must be {\"pad\": int, \"scale\": number, \"offset\": [numbers]}, got " + m);
        }
        double[] o = new double[offsets.size()];
        for (int i = 0; i < o.length; i++) {
            if (!(offsets.get(i) instanceof Number n)) throw new IllegalArgumentException("preprocessing offset " + i + " is not a number: " + offsets.get(i));
            o[i] = n.doubleValue();
        }
        return new Preprocessing(Math.toIntExact(pad), scale.doubleValue(), o);
    }

    @Override public boolean equals(Object o) {
        return o instanceof Preprocessing p && p.pad == pad && p.scale == scale && Arrays.equals(p.offset, offset);
    }

    @Override public int hashCode() { return 31 * (31 * pad + Double.hashCode(scale)) + Arrays.hashCode(offset); }

    @Override public String toString() {
        return "Preprocessing(pad " + pad + ", value = p * " + scale + " + " + Arrays.toString(offset) + ")";
    }
}
