package dev.isthmus.nn;

import dev.isthmus.engine.OptimizerSpec;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a checkpoint says about the run that wrote it, beside the weights: the optimizer and its
 * hyper-parameters ({@code optimizer.name}, {@code optimizer.momentum}, ...), and the typed readers
 * of metadata values whose errors name the file, the key, what was expected and what is there.
 * Resuming under another optimizer would silently pour one rule's state into another's buffers
 * (RMSProp's squares as SGD's momentum), so {@link #requireSameOptimizer} refuses it.
 */
public final class CheckpointKeys {
    public static final String OPTIMIZER_NAME = "optimizer.name";
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    private CheckpointKeys() {}

    /** "sgd", "rmsprop" or "adam". */
    public static String name(OptimizerSpec spec) {
        return switch (spec) {
            case OptimizerSpec.Sgd s -> "sgd";
            case OptimizerSpec.RmsProp r -> "rmsprop";
            case OptimizerSpec.Adam a -> "adam";
        };
    }

    /** {@code optimizer.name} and one {@code optimizer.<component>} per hyper-parameter of the spec. */
    static Map<String, String> optimizer(Optimizer optimizer) {
        OptimizerSpec spec = optimizer.spec();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(OPTIMIZER_NAME, name(spec));
        meta.putAll(hyperParameters(spec));
        return meta;
    }

    private static Map<String, String> hyperParameters(OptimizerSpec spec) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (RecordComponent c : spec.getClass().getRecordComponents()) {
            try {
                meta.put(OPTIMIZER_PREFIX + c.getName(), String.valueOf(c.getAccessor().invoke(spec)));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + c + " of " + spec, e);
            }
        }
        return meta;
    }

    /**
     * Throws when the file was written by another optimizer or other hyper-parameters than
     * {@code optimizer}'s, naming the key and both values. A file without {@code optimizer.name}
     * (written before it was stored) passes: it cannot say.
     */
    static void requireSameOptimizer(Path file, Map<String, String> saved, Optimizer optimizer) {
        String savedName = saved.get(OPTIMIZER_NAME);
        if (savedName == null) return;
        Map<String, String> mine = optimizer(optimizer);
        for (Map.Entry<String, String> e : mine.entrySet()) {
            String was = saved.get(e.getKey());
            if (was != null && !Objects.equals(was, e.getValue())) {
                throw new IllegalArgumentException(file + ": key " + e.getKey() + " is " + was + " in the checkpoint, this run has "
                        + e.getValue() + "; resume with the same optimizer settings, or give --reset-optimizer to start "
                        + mine.get(OPTIMIZER_NAME) + " from fresh state");
            }
        }
    }

    /** The integer under {@code key}, at least 0; absent gives {@code absent}. Errors name the file and the key. */
    public static int nonNegativeInt(Path file, Map<String, String> meta, String key, int absent) {
        String v = meta.get(key);
        if (v == null) return absent;
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // reported below with the file and the key
        }
        throw new IllegalArgumentException(file + ": metadata key '" + key + "' is \"" + v + "\", expected an integer >= 0");
    }

    static long nonNegativeLong(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        try {
            long n = Long.parseLong(v.strip());
            if (n >= 0) return n;
        } catch (NumberFormatException | NullPointerException e) {
            // reported below with the file and the key
        }
        throw new IllegalArgumentException(file + ": metadata key '" + key + "' is \"" + v + "\", expected an integer >= 0");
    }

    /** The float under {@code key}, finite and > 0 (a learning rate). Errors name the file and the key. */
    public static float positiveFloat(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        try {
            float f = Float.parseFloat(v.strip());
            if (f > 0 && Float.isFinite(f)) return f;
        } catch (NumberFormatException | NullPointerException e) {
            // reported below with the file and the key
        }
        throw new IllegalArgumentException(file + ": metadata key '" + key + "' is \"" + v + "\", expected a finite number > 0");
    }

    /**
     * Refuses {@code key} when the checkpoint holds another value than this run's, naming both
     * (the model variant, the data preprocessing); an absent key passes.
     */
    public static void requireSame(Path file, Map<String, String> meta, String key, String expected, String hint) {
        String saved = meta.get(key);
        if (saved != null && !saved.equals(expected)) {
            throw new IllegalArgumentException(file + ": key " + key + " is " + saved + " in the checkpoint, this run has "
                    + expected + (hint == null ? "" : "; " + hint));
        }
    }
}
