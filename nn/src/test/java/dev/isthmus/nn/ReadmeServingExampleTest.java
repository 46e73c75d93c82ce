package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.dnnl.DnnlBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's embedding example, compiled and run here; the README must quote it verbatim. */
class ReadmeServingExampleTest {
    @TempDir Path dir;

    static final AtomicInteger answered = new AtomicInteger();

    static void example(Path file) throws Exception {
        // README:begin
        try (Model model = Model.load(file);                      // architecture, labels, weights
             Backend backend = new DnnlBackend();
             Predictor predictor = Predictor.create(model, backend, Predictor.Options.defaults())) {
            float[] digit = new float[32 * 32];                   // (1, 32, 32), preprocessed
            java.util.Arrays.fill(digit, -0.1f);                  // background (Preprocessing.mnist())
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 1000; i++) {
                    threads.submit(() -> {                        // any thread, all at once
                        List<Predictor.Prediction> top = predictor.top(digit, 3);
                        float[] logits = new float[10];           // or: no allocation at all
                        predictor.predict(digit, 1, logits);
                        answered.incrementAndGet();
                    });
                }
            }
        }                                                         // close: after the last call
        // README:end
    }

    @Test
    void theExampleRunsAndTheReadmeQuotesIt() throws Exception {
        Path file = dir.resolve("model.safetensors");
        try (Model m = PredictorTest.lenet(false)) {
            m.save(file);
        }
        example(file);
        assertEquals(1000, answered.get());
        String readme = Files.readString(Path.of("..", "README.md"));
        assertTrue(readme.contains(exampleText()), "README.md's Serving section must quote the example verbatim:\n" + exampleText());
    }

    /** The lines between the markers, de-indented by the first line's indentation, as the README indents code (4 spaces). */
    static String exampleText() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/isthmus/nn/ReadmeServingExampleTest.java"));
        int from = -1, to = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().equals("// README:begin")) from = i + 1;
            if (lines.get(i).trim().equals("// README:end")) to = i;
        }
        int indent = lines.get(from).indexOf(lines.get(from).trim());
        return lines.subList(from, to).stream().map(l -> "    " + l.substring(Math.min(indent, l.length())))
                .collect(Collectors.joining("\n"));
    }
}
