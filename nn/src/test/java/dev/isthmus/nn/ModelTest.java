package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TestTensors;
import dev.isthmus.nn.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model files: the description round-trips, and bad files are rejected naming the problem. */
class ModelTest {
    @TempDir Path dir;

    /** Compiles {@code layers} with seeded weights, saves it as a model file, loads it back, and compares everything. */
    private void roundTrip(String name, Supplier<Sequential> layers, Shape input, List<String> labels, Preprocessing pre)
            throws IOException {
        Path file = dir.resolve(name.replace(' ', '-') + ".safetensors");
        try (Backend backend = new DnnlBackend();
             Sequential s = layers.get().compile(backend, 1, input, Sequential.Mode.INFERENCE, 3).eval();
             Model model = Model.of(name, s, labels, pre)) {
            model.save(file);
            try (Model loaded = Model.load(file);
                 Sequential again = loaded.compile(backend, 1);
                 Tensor x = TestTensors.uniform(5, -1f, 1f, input.prepend(1).dims())) {
                assertEquals(name, loaded.name());
                assertEquals(input, loaded.inputShape());
                assertEquals(model.architecture(), loaded.architecture());
                assertEquals(model.labels(), loaded.labels());
                assertEquals(pre, loaded.preprocessing());
                assertArrayEquals(s.parameters().values().toFloatArray(), loaded.weights().toFloatArray(), name + " weights");
                assertEquals(s.layers().stream().map(Object::toString).toList(),
                        again.layers().stream().map(Object::toString).toList(), name + " layers");
                float[] expected = s.forward(x).toFloatArray();
                assertArrayEquals(expected, again.forward(x).toFloatArray(), name + " outputs");
            }
        }
    }

    @Test
    void leNetBothVariantsRoundTrip() throws IOException {
        roundTrip("LeNet-5 classic", LeNet5::classic, Shape.of(1, 32, 32), null, Preprocessing.mnist());
        roundTrip("LeNet-5 relu", LeNet5::relu, Shape.of(1, 32, 32), null, Preprocessing.mnist());
    }

    @Test
    void alexNetBothVariantsRoundTrip() throws IOException {
        List<String> labels = List.of("circle", "square", "triangle");
        Preprocessing pre = new Preprocessing(0, 1 / 64.0, new double[] {-2, -1.9, -1.8});
        roundTrip("AlexNet paper", () -> AlexNet.paper(3), Shape.of(3, 227, 227), labels, pre);
        roundTrip("AlexNet modern", () -> AlexNet.modern(3), Shape.of(3, 224, 224), labels, null);
    }

    /** A LeNet model file's tensors and metadata, for rewriting into bad files. */
    private record Parts(Map<String, Safetensors.Entry> tensors, Map<String, String> metadata) {}

    private Parts lenetParts() throws IOException {
        Path file = dir.resolve("good.safetensors");
        try (Model m = PredictorTest.lenet(false)) {
            m.save(file);
        }
        Map<String, Safetensors.Entry> tensors = new LinkedHashMap<>();
        try (Safetensors st = Safetensors.read(file)) {
            st.entries().forEach((k, e) -> tensors.put(k, Safetensors.Entry.ofFloats(e.toFloatArray(), e.shape())));
            return new Parts(tensors, new LinkedHashMap<>(st.metadata()));
        }
    }

    private String loadError(Parts parts) throws IOException {
        Path bad = dir.resolve("bad.safetensors");
        Safetensors.write(bad, parts.tensors, parts.metadata);
        return assertThrows(IllegalArgumentException.class, () -> Model.load(bad)).getMessage();
    }

    @Test
    void aWrongShapeIsNamedWithBothShapes() throws IOException {
        Parts p = lenetParts();
        p.tensors.put("c3.weight", Safetensors.Entry.ofFloats(new float[16 * 5 * 5 * 5], 16, 5, 5, 5));
        String m = loadError(p);
        assertTrue(m.contains("c3.weight: shape [16, 5, 5, 5] in file, model expects [16, 6, 5, 5]"), m);
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        Parts p = lenetParts();
        p.tensors.remove("f6.bias");
        String m = loadError(p);
        assertTrue(m.contains("f6.bias: missing from file, model expects F32 [84]"), m);
    }

    @Test
    void aNewerFormatVersionIsRejected() throws IOException {
        Parts p = lenetParts();
        p.metadata.put(Model.VERSION, "2");
        String m = loadError(p);
        assertTrue(m.contains("format version 2; this Isthmus reads versions 1 to 1: it was written by a newer Isthmus"), m);
    }

    @Test
    void aBadArchitectureNamesTheLayerAndKey() throws IOException {
        Parts p = lenetParts();
        p.metadata.put(Model.ARCHITECTURE, p.metadata.get(Model.ARCHITECTURE).replace("\"kernel_size\":5,", ""));
        String m = loadError(p);
        assertTrue(m.contains("architecture layer 0") && m.contains("missing 'kernel_size'"), m);
    }

    @Test
    void anOldCheckpointLoadsWhenTheCallerNamesTheArchitecture() throws IOException {
        Path old = dir.resolve("old.safetensors");
        try (Backend backend = new ReferenceBackend();
             Sequential s = LeNet5.relu().compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 11)) {
            Checkpoint.save(old, s, null, Map.of("variant", "relu", "model", "LeNet-5"));
            String m = assertThrows(IllegalArgumentException.class, () -> Model.load(old)).getMessage();
            assertTrue(m.contains("no model description") && m.contains("naming the architecture"), m);
            try (Model loaded = Model.load(old, LeNet5.relu(), Shape.of(1, 32, 32), null, Preprocessing.mnist())) {
                assertArrayEquals(s.parameters().values().toFloatArray(), loaded.weights().toFloatArray());
                assertEquals("LeNet-5", loaded.name());
            }
            String wrong = assertThrows(IllegalArgumentException.class,
                    () -> Model.load(old, AlexNet.modern(10), Shape.of(3, 224, 224), null, null)).getMessage();
            assertTrue(wrong.contains("features.0.weight: missing from file"), wrong);
        }
    }

    @Test
    void aTrainingCheckpointWithTheDescriptionIsAModelFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        try (Backend backend = new ReferenceBackend();
             Sequential s = LeNet5.classic().compile(backend, 4, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 5);
             SGD sgd = new SGD(s.parameters(), 0.1f, 0.9f, 0f, false)) {
            Map<String, String> meta = new LinkedHashMap<>(Model.metadata("LeNet-5 classic", s, Shape.of(1, 32, 32), null, Preprocessing.mnist()));
            meta.put("epoch", "1");
            Checkpoint.save(file, s, sgd, meta);
            try (Model m = Model.load(file)) {
                assertEquals("LeNet-5 classic", m.name());
                assertArrayEquals(s.parameters().values().toFloatArray(), m.weights().toFloatArray());
            }
        }
    }
}
