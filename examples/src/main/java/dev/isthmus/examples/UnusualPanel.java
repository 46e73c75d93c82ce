// `lenet show`'s "unusual patterns" (the lecture's last LeNet demo): the digits of UnusualDigits
// (thick, thin, dotted, outlined, slanted, cluttered) through the model, as unusual.png (each digit
// with the predicted class, '!' when wrong, and its probability) and unusual.txt (correct per style);
// with --versus a second checkpoint (say, one trained with --distort) is scored on the same digits
// and drawn as unusual-versus.png.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.examples.figures.ImageGrid;
import dev.isthmus.examples.figures.Png;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.data.Mnist;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The unusual-patterns panel of {@code lenet show}. */
final class UnusualPanel {
    private UnusualPanel() {}

    static final long SEED = 1;

    static void write(Sequential model, Tensor input, Path file, Path versus, Backend backend, int batch, RunReport report,
                      PrintStream out) throws Exception {
        List<UnusualDigits.Digit> digits = UnusualDigits.all(SEED);
        List<float[]> images = digits.stream().map(UnusualDigits.Digit::pixels).toList();
        float[][] p = probabilities(model, input, images);
        Png.write(figure(digits, p, file.toString()), report.file("unusual.png"));
        float[][] q = null;
        if (versus != null) {
            try (Sequential other = LenetShow.model(versus)) {
                other.compile(backend, batch, Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.INFERENCE, 0);
                Checkpoint.load(versus, other, null);
                q = probabilities(other, input, images);
            }
            Png.write(figure(digits, q, versus.toString()), report.file("unusual-versus.png"));
        }
        String table = table(digits, p, q, file, versus);
        report.writeText("unusual.txt", table);
        out.print(table);
        out.println("wrote unusual.png" + (versus != null ? " and unusual-versus.png" : "") + " and unusual.txt");
    }

    private static float[][] probabilities(Sequential model, Tensor input, List<float[]> images) {
        float[][] logits = LenetShow.outputs(model, input, images, model.layers().size() - 1);
        float[][] p = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) p[i] = LenetShow.softmax(logits[i]);
        return p;
    }

    private static java.awt.image.BufferedImage figure(List<UnusualDigits.Digit> digits, float[][] p, String model) {
        List<ImageGrid.Cell> cells = new ArrayList<>();
        for (int i = 0; i < digits.size(); i++) {
            int k = LenetShow.argmax(p[i]);
            cells.add(ImageGrid.grey(digits.get(i).pixels(), UnusualDigits.SIDE, UnusualDigits.SIDE, Mnist.BACKGROUND,
                    Mnist.FOREGROUND, String.format(Locale.ROOT, "%d%s %d%%", k, k == digits.get(i).label() ? "" : "!",
                            Math.round(100 * p[i][k]))));
        }
        List<String> rows = new ArrayList<>();
        for (UnusualDigits.Style s : UnusualDigits.Style.values()) rows.add(s.name().toLowerCase(Locale.ROOT));
        return Pictures.titled(String.format(Locale.ROOT, "unusual patterns, drawn by Isthmus; rows: %s%n"
                        + "under each digit the predicted class (! if wrong) and its probability: %s", String.join(", ", rows), model),
                ImageGrid.render(null, cells, 10, 3));
    }

    /** Correct digits per style (of 10) for the model and, when given, the second one. */
    static String table(List<UnusualDigits.Digit> digits, float[][] p, float[][] q, Path file, Path versus) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%nunusual patterns: correct of 10 digits per style%n"));
        s.append(String.format(Locale.ROOT, "  %-9s %8s%s%n", "style", "model", q == null ? "" : String.format(" %8s", "versus")));
        int total = 0, totalQ = 0;
        for (UnusualDigits.Style st : UnusualDigits.Style.values()) {
            int a = 0, b = 0;
            for (int i = 0; i < digits.size(); i++) {
                if (digits.get(i).style() != st) continue;
                if (LenetShow.argmax(p[i]) == digits.get(i).label()) a++;
                if (q != null && LenetShow.argmax(q[i]) == digits.get(i).label()) b++;
            }
            total += a;
            totalQ += b;
            s.append(String.format(Locale.ROOT, "  %-9s %8d%s%n", st.name().toLowerCase(Locale.ROOT), a, q == null ? "" : String.format(" %8d", b)));
        }
        s.append(String.format(Locale.ROOT, "  %-9s %5d/%d%s%n", "all", total, digits.size(),
                q == null ? "" : String.format(Locale.ROOT, " %5d/%d", totalQ, digits.size())));
        s.append("  model:  ").append(file).append('\n');
        if (versus != null) s.append("  versus: ").append(versus).append('\n');
        return s.toString();
    }
}
