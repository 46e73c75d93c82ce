package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.nn.io.Json;
import dev.isthmus.nn.io.Safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a model file holds: the architecture (every layer with its hyper-parameters), the
 * per-sample input shape, the class names, the preprocessing of raw images, and the weights, so
 * that {@link #load(Path)} rebuilds the model without knowing what it is. The file is safetensors
 * (readable by Python's {@code safetensors}); the description is in its {@code __metadata__}:
 *
 * <pre>
 *   isthmus.format_version  "1"
 *   isthmus.name            "LeNet-5 classic"
 *   isthmus.architecture    [{"type":"Conv2d","name":"c1","in_channels":1,...}, ...]
 *   isthmus.input_shape     [1,32,32]
 *   isthmus.labels          ["0","1",...]
 *   isthmus.preprocessing   {"pad":2,"scale":0.005,"offset":[-0.1]}   (optional)
 * </pre>
 *
 * A file from a newer format version, or whose tensors do not fit its architecture, is rejected
 * naming the tensor, the expected and the actual shape. A file without the description (an older
 * checkpoint) loads with {@link #load(Path, Sequential, Shape, List, Preprocessing)}, the caller
 * naming the architecture. Training checkpoints ({@link Checkpoint#save}) carry the description when
 * their metadata includes {@link #metadata}; their optimizer tensors are ignored here.
 *
 * <p>Thread-safety: a model is immutable once made (its weights are read, never written), so any
 * number of threads may read it and build {@link Predictor}s from it at once; {@link #close} frees
 * the weights and must come after every user is done.
 */
public final class Model implements AutoCloseable {
    /** The format version this code writes; files with a larger one are rejected. */
    public static final int FORMAT_VERSION = 1;
    public static final String VERSION = "isthmus.format_version";
    public static final String NAME = "isthmus.name";
    public static final String ARCHITECTURE = "isthmus.architecture";
    public static final String INPUT_SHAPE = "isthmus.input_shape";
    public static final String LABELS = "isthmus.labels";
    public static final String PREPROCESSING = "isthmus.preprocessing";

    private final String name;
    private final List<Map<String, Object>> architecture;
    private final Shape inputShape;        // per sample, (C, H, W)
    private final Shape outputShape;       // per sample, (classes)
    private final List<String> labels;
    private final Preprocessing preprocessing;   // null when the model's inputs are not images
    private final List<Slot> slots;        // every parameter, in slab order
    private final Tensor weights;          // (P) host memory, all parameters

    /** One parameter's place in the weight slab. */
    private record Slot(String name, Shape shape, long offset) {}

    private Model(String name, Sequential layers, Shape input, List<String> labels, Preprocessing preprocessing) {
        this(name, layers, input, labels, preprocessing, true);
    }

    /** {@code withWeights} false: the description only (for {@link #metadata}), no weight memory. */
    private Model(String name, Sequential layers, Shape input, List<String> labels, Preprocessing preprocessing,
                  boolean withWeights) {
        this.name = name;
        this.architecture = asJson(Architecture.describe(layers));   // exactly what a file read gives back
        this.inputShape = input;
        this.outputShape = layers.inferShapes(input).getLast();
        this.slots = slots(layers, input);
        long classes = outputShape.elements();
        if (labels == null) {
            List<String> numbers = new ArrayList<>();
            for (int i = 0; i < classes; i++) numbers.add(Integer.toString(i));
            labels = numbers;
        }
        if (labels.size() != classes) {
            throw new IllegalArgumentException("model '" + name + "' has " + classes + " outputs but " + labels.size() + " labels");
        }
        if (preprocessing != null && preprocessing.offset().length != input.dim(0)) {
            throw new IllegalArgumentException("model '" + name + "': preprocessing has " + preprocessing.offset().length
                    + " channel offsets, the input " + input + " has " + input.dim(0) + " channels");
        }
        this.labels = List.copyOf(labels);
        this.preprocessing = preprocessing;
        long total = slots.isEmpty() ? 0 : slots.getLast().offset + slots.getLast().shape.elements();
        this.weights = withWeights ? Tensor.allocate(Shape.of(Math.toIntExact(Math.max(1, total))), DType.F32) : null;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> asJson(List<Map<String, Object>> layers) {
        return (List<Map<String, Object>>) Json.read(Json.writeCompact(layers));
    }

    private static List<Slot> slots(Sequential layers, Shape input) {
        List<Shape> shapes = layers.inferShapes(input);
        List<Slot> out = new ArrayList<>();
        long offset = 0;
        Shape in = input;
        for (int i = 0; i < layers.layers().size(); i++) {
            Layer l = layers.layers().get(i);
            for (Layer.ParameterSlot s : l.parameterSlots(in)) {
                out.add(new Slot(l.name() + "." + s.suffix(), s.shape(), offset));
                offset += s.shape().elements();
            }
            in = shapes.get(i);
        }
        return out;
    }

    /**
     * A model of the compiled {@code model}'s layers and current weights (copied), for input
     * {@code model.inputShape()}. {@code labels} may be null ("0", "1", ...); {@code preprocessing} may be null.
     */
    public static Model of(String name, Sequential model, List<String> labels, Preprocessing preprocessing) {
        if (!model.isCompiled()) throw new IllegalStateException("Model.of needs a compiled model (its weights)");
        Model m = new Model(name, model, model.inputShape(), labels, preprocessing);
        Tensor values = model.parameters().values();
        if (values != null) values.copyTo(m.weights.view(0, values.shape()));
        return m;
    }

    /** The metadata that makes a {@link Checkpoint} of {@code model} a model file too: merge it into {@link Checkpoint#save}'s. */
    public static Map<String, String> metadata(String name, Sequential model, Shape input, List<String> labels,
                                               Preprocessing preprocessing) {
        return new Model(name, model, input, labels, preprocessing, false).metadata();
    }

    private Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(VERSION, Integer.toString(FORMAT_VERSION));
        m.put(NAME, name);
        m.put(ARCHITECTURE, Json.writeCompact(architecture));
        m.put(INPUT_SHAPE, Json.writeCompact(inputShape.longDims()));
        m.put(LABELS, Json.writeCompact(labels));
        if (preprocessing != null) m.put(PREPROCESSING, Json.writeCompact(preprocessing.toJson()));
        return m;
    }

    /** Writes the weights and the description to {@code file}, atomically. */
    public void save(Path file) throws IOException {
        Map<String, Safetensors.Entry> entries = new LinkedHashMap<>();
        for (Slot s : slots) {
            entries.put(s.name, new Safetensors.Entry(Safetensors.Dtype.F32, s.shape.longDims(),
                    weights.view(s.offset, s.shape).segment()));
        }
        Safetensors.write(file, entries, metadata());
    }

    /** Loads a model file written by {@link #save} (or a checkpoint carrying {@link #metadata}). */
    public static Model load(Path file) throws IOException {
        try (Safetensors st = Safetensors.read(file)) {
            Map<String, String> meta = st.metadata();
            String version = meta.get(VERSION);
            String architecture = meta.get(ARCHITECTURE);
            if (version == null || architecture == null) {
                throw new IllegalArgumentException(file + " has no model description (" + VERSION + ", " + ARCHITECTURE
                        + " in its metadata): an older checkpoint; load it with Model.load(file, architecture, inputShape,"
                        + " labels, preprocessing), naming the architecture (LeNet5.classic(), ...)");
            }
            int v;
            try {
                v = Integer.parseInt(version);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": " + VERSION + " is '" + version + "', not a number");
            }
            if (v > FORMAT_VERSION || v < 1) {
                throw new IllegalArgumentException(file + " has model format version " + v + "; this Isthmus reads versions 1 to "
                        + FORMAT_VERSION + (v > FORMAT_VERSION ? ": it was written by a newer Isthmus" : ""));
            }
            Model model;
            try {
                Sequential layers = Architecture.build(jsonList(architecture, ARCHITECTURE));
                Shape input = shape(meta.get(INPUT_SHAPE));
                List<String> labels = meta.containsKey(LABELS) ? strings(jsonList(meta.get(LABELS), LABELS)) : null;
                Preprocessing pre = meta.containsKey(PREPROCESSING)
                        ? Preprocessing.fromJson(Json.readObject(meta.get(PREPROCESSING))) : null;
                model = new Model(meta.getOrDefault(NAME, file.getFileName().toString()), layers, input, labels, pre);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            return fill(st, model);   // its errors name the file already
        }
    }

    /**
     * Loads an older file without a description: {@code architecture} (uncompiled layers, e.g.
     * {@code LeNet5.classic()}) says what it holds, {@code input} the per-sample input shape.
     */
    public static Model load(Path file, Sequential architecture, Shape input, List<String> labels,
                             Preprocessing preprocessing) throws IOException {
        try (Safetensors st = Safetensors.read(file)) {
            String name = st.metadata().getOrDefault("model", file.getFileName().toString());
            return fill(st, new Model(name, architecture, input, labels, preprocessing));
        }
    }

    /** Checks every tensor against the architecture (names, dtypes, shapes), then copies the weights in. */
    private static Model fill(Safetensors st, Model m) {
        try {
            Map<String, Safetensors.Spec> expected = new LinkedHashMap<>();
            for (Slot s : m.slots) expected.put(s.name, new Safetensors.Spec(Safetensors.Dtype.F32, s.shape.longDims()));
            st.entries().forEach((k, e) -> {   // training state rides along in checkpoints: not the model's business
                if (k.startsWith("optimizer.")) expected.put(k, new Safetensors.Spec(e.dtype(), e.shape()));
            });
            st.requireMatches(expected);
            for (Slot s : m.slots) m.weights.view(s.offset, s.shape).copyFromHost(st.get(s.name).data());
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static List<?> jsonList(String text, String key) {
        if (Json.read(text) instanceof List<?> l) return l;
        throw new IllegalArgumentException(key + " must be a JSON array, got " + text);
    }

    private static List<String> strings(List<?> values) {
        List<String> out = new ArrayList<>();
        for (Object o : values) {
            if (!(o instanceof String s)) throw new IllegalArgumentException(LABELS + " must hold strings, got " + o);
            out.add(s);
        }
        return out;
    }

    private static Shape shape(String text) {
        if (text == null) throw new IllegalArgumentException("no " + INPUT_SHAPE + " in the metadata");
        List<?> dims = jsonList(text, INPUT_SHAPE);
        int[] d = new int[dims.size()];
        for (int i = 0; i < d.length; i++) {
            if (!(dims.get(i) instanceof Long l) || l <= 0 || l > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(INPUT_SHAPE + " must hold positive integers, got " + text);
            }
            d[i] = l.intValue();
        }
        return Shape.of(d);
    }

    /** New, uncompiled layers of this architecture (weights not set): compile them, or use {@link #compile}. */
    public Sequential newLayers() { return Architecture.build(architecture); }

    /**
     * This model compiled for inference at {@code batch} on {@code backend}, with its own copy of
     * the weights: one caller at a time (see {@link Predictor} for many).
     */
    public Sequential compile(Backend backend, int batch) {
        Sequential s = newLayers().compile(backend, batch, inputShape, Sequential.Mode.INFERENCE, 0);
        try {
            Tensor values = s.parameters().values();
            if (values != null) weights.view(0, values.shape()).copyTo(values);
            return s.eval();
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public String name() { return name; }

    /** Per-sample input shape, (C, H, W). */
    public Shape inputShape() { return inputShape; }

    /** Per-sample output shape, (classes). */
    public Shape outputShape() { return outputShape; }

    /** One name per output, in output order. */
    public List<String> labels() { return labels; }

    /** How raw images become inputs; null when the file does not say. */
    public Preprocessing preprocessing() { return preprocessing; }

    /** Learnable scalars. */
    public long parameterCount() { return slots.isEmpty() ? 0 : slots.getLast().offset + slots.getLast().shape.elements(); }

    /** All weights, (P), in {@link Sequential#parameters()}'s slab order: read them, do not write. */
    public Tensor weights() { return weights; }

    /** The layer list as written to the file (type, name, hyper-parameters per layer). */
    public List<Map<String, Object>> architecture() { return architecture; }

    @Override public void close() {
        if (weights != null) weights.close();
    }

    @Override public String toString() {
        return name + " (" + architecture.size() + " layers, " + parameterCount() + " parameters, input " + inputShape + ")";
    }
}
