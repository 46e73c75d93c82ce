// The inference agreement check of `isthmus bench compare`, and the ONNX export it rests on: a model
// compiled by Isthmus for inference hands its weights to the PyTorch worker, which loads them,
// computes the logits of the same images and exports the model to ONNX (torch.onnx.export); ONNX
// Runtime runs that file. Isthmus simd, PyTorch and ONNX Runtime must then agree with Isthmus dnnl on
// the logits. The exported file is what ONNX Runtime is measured on, so all peers run the same weights.
package dev.isthmus.examples;

import dev.isthmus.examples.CompareIsthmus.Peer;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Checks that Isthmus (dnnl, simd), PyTorch and ONNX Runtime compute the same logits. */
final class CompareInference {
    private CompareInference() {}

    /**
     * max |a - b| / max |b| of the logits against Isthmus dnnl's: 1e-4, as the other checks of
     * bench compare. The runs here measured about 1e-6 for every peer and model (AlexNet included,
     * where oneDNN's blocked kernels, the simd GEMM, OpenBLAS and ONNX Runtime's MLAS each add up to
     * 9,216 products per output in their own order): the line printed says what each run measured.
     */
    static double tolerance(String model) {
        return 1e-4;
    }

    /** The images of the check: LeNet-5 at batch 8, AlexNet at batch 2 (whole networks, seeded). */
    static int batch(String model) {
        return model.equals("lenet") ? 8 : 2;
    }

    /**
     * Compiles {@code model} on Isthmus dnnl and simd, has PyTorch load dnnl's weights, compute
     * the logits and export the model to {@code dir}/MODEL.onnx, runs that file in ONNX Runtime,
     * and throws unless all agree within {@link #tolerance}. Returns the ONNX file.
     */
    static Path check(String model, CompareIsthmus isthmus, CompareWorker torch, CompareOnnx ort, Path dir, PrintStream out)
            throws Exception {
        int[] sample = CompareIsthmus.input(model).dims();
        int perImage = Arrays.stream(sample).reduce(1, Math::multiplyExact);
        float[] images = CompareIsthmus.uniform(51, batch(model) * perImage);
        float[][] dnnl = isthmus.inferenceLogits(Peer.DNNL, model, images);   // {parameters, logits}
        float[] simd = isthmus.inferenceLogits(Peer.SIMD, model, images)[1];
        String prefix = dir.resolve(model).toString();
        BenchCommand.writeFloats(Path.of(prefix + ".params"), dnnl[0]);
        BenchCommand.writeFloats(Path.of(prefix + ".images"), images);
        long t0 = System.nanoTime();
        torch.ask("export " + model + " " + prefix);
        double exportSeconds = (System.nanoTime() - t0) * 1e-9;
        Files.deleteIfExists(Path.of(prefix + ".params"));   // AlexNet's are 244 MB; the ONNX file holds them now
        Path onnx = Path.of(prefix + ".onnx");
        if (!Files.isRegularFile(onnx)) throw new IllegalStateException("the PyTorch worker did not write " + onnx);
        Map<String, float[]> got = new LinkedHashMap<>();
        got.put("simd", simd);
        got.put("PyTorch", BenchCommand.readFloats(Path.of(prefix + ".torch.logits"), dnnl[1].length));
        got.put("ONNX Runtime", ort.logits(onnx, sample, images));
        String line = agree(model + " inference logits, batch " + batch(model) + ", Isthmus's weights", dnnl[1], got, tolerance(model));
        out.printf(Locale.ROOT, "%s; ONNX export %.1f s, %.1f MB%n", line, exportSeconds, Files.size(onnx) / 1e6);
        return onnx;
    }

    /**
     * The line "WHAT, max relative difference to Isthmus dnnl: simd 1.2e-06 PyTorch ... (ok,
     * tolerance T)"; throws, naming the peer, the difference and the first values side by side,
     * when any of {@code got} is further than {@code tolerance} from {@code reference}.
     */
    static String agree(String what, float[] reference, Map<String, float[]> got, double tolerance) {
        StringBuilder line = new StringBuilder("check " + what + ", max relative difference to Isthmus dnnl:");
        for (var e : got.entrySet()) {
            double d = BenchCommand.relativeDifference(reference, e.getValue());
            if (!(d <= tolerance)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%s: %s differs from Isthmus dnnl by %.3e (tolerance %.0e);"
                        + " first values %s vs %s", what, e.getKey(), d, tolerance, head(e.getValue()), head(reference)));
            }
            line.append(String.format(Locale.ROOT, " %s %.1e", e.getKey(), d));
        }
        return line.append(" (ok, tolerance ").append(tolerance).append(')').toString();
    }

    private static String head(float[] v) {
        return Arrays.toString(Arrays.copyOf(v, Math.min(4, v.length)));
    }
}
