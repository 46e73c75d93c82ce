package dev.isthmus.nn;

import dev.isthmus.engine.Shape;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The check a compile makes before it allocates: the activations (and, for training, their
 * gradients) and the parameters (values, and for training gradients and scratch) of the
 * requested batch must fit a limit, else the compile is refused naming the total and the largest
 * tensors. Off-heap memory is not capped by the JVM: without this, {@code --batch 1000000} asked
 * for 18.8 GB at once and only an outside {@code ulimit} stopped it.
 *
 * <p>The limit is {@value #DEFAULT_PERCENT}% of physical memory, or the system property
 * {@value #PROPERTY}: a byte count with an optional k, m, g or t suffix ({@code 8g}), or a
 * percentage of physical memory ({@code 75%}). The estimate leaves out plan workspaces and
 * scratchpads (smaller than the activations they serve), so it is a lower bound.
 */
public final class MemoryBudget {
    public static final String PROPERTY = "isthmus.memory.limit";
    static final int DEFAULT_PERCENT = 50;

    private MemoryBudget() {}

    private record Item(String name, long bytes) {}

    /** Throws {@link IllegalArgumentException} when the compile would exceed the limit; allocates nothing. */
    static void check(List<Layer> layers, boolean[] fusedWithNext, int batch, Shape input, List<Shape> outputs, boolean training) {
        List<Item> items = new ArrayList<>();
        int copies = training ? 2 : 1;   // an activation and its gradient
        items.add(new Item("input " + input.prepend(batch), bytes(input.elements(), batch, 1)));
        long paramElements = 0, largestLayer = 0;
        Shape in = input;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            long layerElements = 0;
            for (Layer.ParameterSlot p : l.parameterSlots(in)) layerElements = Math.addExact(layerElements, p.shape().elements());
            paramElements = Math.addExact(paramElements, layerElements);
            largestLayer = Math.max(largestLayer, layerElements);
            Shape out = outputs.get(i);
            in = out;
            if (i > 0 && fusedWithNext[i - 1]) continue;   // an activation fused into the convolution before it has no buffer
            items.add(new Item("layer '" + l.name() + "' output " + out.prepend(batch) + (training ? " and its gradient" : ""),
                    bytes(out.elements(), batch, copies)));
        }
        long paramBytes = training ? Math.addExact(bytes(paramElements, 2, 1), bytes(largestLayer, 1, 1)) : bytes(paramElements, 1, 1);
        items.add(new Item("parameters (" + paramElements + (training ? ", with gradients" : "") + ")", paramBytes));
        long total = 0;
        for (Item it : items) total = Math.addExact(total, it.bytes());
        long limit = limit();
        if (total <= limit) return;
        List<Item> largest = items.stream().sorted(Comparator.comparingLong(Item::bytes).reversed()).limit(3).toList();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "compiling for batch %d needs about %s, over the limit of %s (%s); largest: ",
                batch, size(total), size(limit), limitSource()));
        for (int i = 0; i < largest.size(); i++) {
            s.append(i == 0 ? "" : ", ").append(largest.get(i).name()).append(' ').append(size(largest.get(i).bytes()));
        }
        throw new IllegalArgumentException(s.append("; give a smaller batch").toString());
    }

    private static long bytes(long elements, long batch, int copies) {
        return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(elements, batch), Float.BYTES), copies);
    }

    /** The limit in bytes, from {@value #PROPERTY} or the default fraction of physical memory. */
    public static long limit() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) return physical() / 100 * DEFAULT_PERCENT;
        return parse(v.strip());
    }

    static long parse(String v) {
        try {
            if (v.endsWith("%")) {
                double p = Double.parseDouble(v.substring(0, v.length() - 1));
                if (p > 0 && p <= 1000) return (long) (physical() * (p / 100));
            } else {
                char unit = Character.toLowerCase(v.charAt(v.length() - 1));
                long scale = switch (unit) { case 'k' -> 1L << 10; case 'm' -> 1L << 20; case 'g' -> 1L << 30; case 't' -> 1L << 40; default -> 1; };
                String digits = scale == 1 ? v : v.substring(0, v.length() - 1);
                long n = Long.parseLong(digits);
                if (n > 0) return Math.multiplyExact(n, scale);
            }
        } catch (NumberFormatException | ArithmeticException | StringIndexOutOfBoundsException e) {
            // reported below with the property's name
        }
        throw new IllegalArgumentException("system property " + PROPERTY + " is \"" + v
                + "\", expected a byte count (e.g. 8g, 512m) or a percentage of physical memory (e.g. 75%)");
    }

    private static String limitSource() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank()
                ? DEFAULT_PERCENT + "% of " + size(physical()) + " physical memory; -D" + PROPERTY + "=SIZE or PERCENT% changes it"
                : "-D" + PROPERTY + "=" + v;
    }

    private static long physical() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getTotalMemorySize();
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
}
