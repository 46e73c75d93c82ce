package dev.isthmus.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Sequential}'s layer list as plain data, and back: what a model file's metadata holds
 * under {@link Model#ARCHITECTURE}. One map per layer, {@code {"type": "Conv2d", "name": "c1",
 * "in_channels": 1, ...}}, with every constructor argument under PyTorch's name. Initialisers are
 * not kept: a loaded model's weights come from the file.
 */
final class Architecture {
    private Architecture() {}

    /** The layer list of {@code model}; throws for a layer type a model file cannot express. */
    static List<Map<String, Object>> describe(Sequential model) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Layer l : model.layers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", l.getClass().getSimpleName());
            m.put("name", l.name());
            new java.util.TreeMap<>(config(l)).forEach(m::put);   // sorted: the same model writes the same text
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> config(Layer l) {
        return switch (l) {
            case Conv2d c -> c.config();
            case Linear f -> f.config();
            case Pool2d p -> p.config();
            case Dropout d -> d.config();
            case LocalResponseNorm n -> n.config();
            case Activation a -> Map.of();
            case Flatten f -> Map.of();
            default -> throw new IllegalArgumentException("layer '" + l.name() + "' (" + l.getClass().getName()
                    + ") has no model-file form; the types are Conv2d, Linear, MaxPool2d, AvgPool2d, Dropout,"
                    + " LocalResponseNorm, ReLU, Tanh, ScaledTanh, Sigmoid, Flatten");
        };
    }

    /** New, uncompiled layers from {@link #describe}'s list; errors name the layer and the key. */
    static Sequential build(List<?> layers) {
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("architecture layer " + i + " is not a JSON object: " + layers.get(i));
            }
            try {
                Layer l = layer(new Fields(m));
                l.setName(new Fields(m).string("name"));
                out.add(l);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("architecture layer " + i + " " + m + ": " + e.getMessage(), e);
            }
        }
        return new Sequential(out);
    }

    private static Layer layer(Fields f) {
        String type = f.string("type");
        return switch (type) {
            case "Conv2d" -> new Conv2d(f.integer("in_channels"), f.integer("out_channels"), f.integer("kernel_size"),
                    f.integer("stride"), f.integer("padding"), f.integer("dilation"), f.integer("groups"), f.bool("bias"));
            case "Linear" -> new Linear(f.integer("in_features"), f.integer("out_features"), f.bool("bias"));
            case "MaxPool2d" -> new MaxPool2d(f.integer("kernel_size"), f.integer("stride"), f.integer("padding"));
            case "AvgPool2d" -> new AvgPool2d(f.integer("kernel_size"), f.integer("stride"), f.integer("padding"));
            case "Dropout" -> new Dropout(f.real("p"));
            case "LocalResponseNorm" -> new LocalResponseNorm(f.integer("size"), f.real("alpha"), f.real("beta"), f.real("k"));
            case "ReLU" -> new ReLU();
            case "Tanh" -> new Tanh();
            case "ScaledTanh" -> new ScaledTanh();
            case "Sigmoid" -> new Sigmoid();
            case "Flatten" -> new Flatten();
            default -> throw new IllegalArgumentException("unknown layer type '" + type + "'");
        };
    }

    /** Typed reads of one layer's JSON object, each naming the key that is missing or mistyped. */
    private record Fields(Map<?, ?> map) {
        Object get(String key) {
            Object v = map.get(key);
            if (v == null) throw new IllegalArgumentException("missing '" + key + "'");
            return v;
        }

        String string(String key) {
            if (get(key) instanceof String s) return s;
            throw new IllegalArgumentException("'" + key + "' must be a string, got " + get(key));
        }

        int integer(String key) {
            if ((get(key) instanceof Long || get(key) instanceof Integer) && ((Number) get(key)).longValue() == ((Number) get(key)).intValue()) {
                return ((Number) get(key)).intValue();
            }
            throw new IllegalArgumentException("'" + key + "' must be an integer, got " + get(key));
        }

        float real(String key) {
            if (get(key) instanceof Number n) return n.floatValue();
            throw new IllegalArgumentException("'" + key + "' must be a number, got " + get(key));
        }

        boolean bool(String key) {
            if (get(key) instanceof Boolean b) return b;
            throw new IllegalArgumentException("'" + key + "' must be true or false, got " + get(key));
        }
    }
}
