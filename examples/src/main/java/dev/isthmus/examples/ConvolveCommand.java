// `isthmus convolve`: the lecture's hand-made kernels (an edge detector, a box blur, Sobel K1 and
// K2, a 4x4 diagonal K3) applied to a picture through the engine's own convolution, a Conv2dPlan
// of the chosen backend (oneDNN by default), with and without zero padding. Every result is
// checked against a plain double loop and the largest difference printed.
//
// It is not an image-processing tool: one grey channel, stride 1, no dilation. The engine
// computes cross-correlation, as oneDNN and PyTorch do (summary.txt says what that changes for
// these kernels: at most the sign).
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.examples.figures.ImageGrid;
import dev.isthmus.examples.figures.Png;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import dev.isthmus.nn.data.MnistFiles;
import dev.isthmus.nn.data.MnistLocator;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Applies the lecture's kernels (or one from a file) to a picture through a backend's convolution. */
final class ConvolveCommand implements Command {

    /** A kernel {@code (KH, KW)} with a file-name-safe name and a one-line description. */
    record Kernel(String name, String description, float[][] weights) {
        Kernel {
            if (weights.length == 0 || weights[0].length == 0) throw new IllegalArgumentException("kernel " + name + " is empty");
            for (float[] row : weights) {
                if (row.length != weights[0].length) throw new IllegalArgumentException("kernel " + name + " has ragged rows");
            }
        }

        int rows() { return weights.length; }

        int cols() { return weights[0].length; }

        String size() { return rows() + "x" + cols(); }

        /** Weights as (1, 1, KH, KW) row-major floats. */
        float[] flat() {
            float[] f = new float[rows() * cols()];
            for (int r = 0; r < rows(); r++) System.arraycopy(weights[r], 0, f, r * cols(), cols());
            return f;
        }

        /** Both signs among the weights: its output is shown symmetric around zero. */
        boolean signed() {
            boolean neg = false, pos = false;
            for (float[] row : weights) for (float v : row) { neg |= v < 0; pos |= v > 0; }
            return neg && pos;
        }

        /** How the kernel turned by 180 degrees (what true convolution uses) relates to it. */
        String flip() {
            boolean same = true, negated = true;
            for (int r = 0; r < rows(); r++) {
                for (int c = 0; c < cols(); c++) {
                    float f = weights[rows() - 1 - r][cols() - 1 - c];
                    same &= f == weights[r][c];
                    negated &= f == -weights[r][c];
                }
            }
            return same ? "flip(K) = K" : negated ? "flip(K) = -K" : "flip(K) differs";
        }
    }

    /** The lecture's five kernels. */
    static final List<Kernel> LECTURE = List.of(
            new Kernel("edge", "edge 5x5: 8 in the centre, -2 at its four neighbours", new float[][] {
                    {0, 0, 0, 0, 0}, {0, 0, -2, 0, 0}, {0, -2, 8, -2, 0}, {0, 0, -2, 0, 0}, {0, 0, 0, 0, 0}}),
            new Kernel("box", "box blur 5x5: all 0.04", box(5)),
            new Kernel("sobel-k1", "Sobel K1 3x3: horizontal gradient, vertical edges", new float[][] {
                    {-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}),
            new Kernel("sobel-k2", "Sobel K2 3x3: vertical gradient, horizontal edges", new float[][] {
                    {-1, -2, -1}, {0, 0, 0}, {1, 2, 1}}),
            new Kernel("diagonal-k3", "K3 4x4: diagonal edges", new float[][] {
                    {0, 0, -1, 0}, {0, -2, 0, 1}, {-1, 0, 2, 0}, {0, 1, 0, 0}}));

    private static float[][] box(int k) {
        float[][] w = new float[k][k];
        for (float[] row : w) java.util.Arrays.fill(row, 1f / (k * k));
        return w;
    }

    /** Which outputs to compute. */
    enum Padding { VALID, SAME, BOTH }

    /** A grey picture {@code (height, width)} with values in [0, 1]. */
    record Picture(String name, float[] pixels, int height, int width) {
        String size() { return height + "x" + width; }
    }

    /** One kernel on one picture: the outputs (null when not asked for) and the largest engine error. */
    record Result(Picture picture, Kernel kernel, float[] valid, float[] same, double maxDifference) {}

    private final Args.Spec spec = new Args.Spec()
            .description("Applies the lecture's kernels to a picture through the engine's convolution (a Conv2dPlan of\n"
                    + "--backend, one plan per kernel), without zero padding (valid: (H-K+1)x(W-K+1)) and with it (same:\n"
                    + "HxW; for an even kernel 1 row/column of zeros before and 2 after, as PyTorch's padding='same').\n"
                    + "Kernels: edge 5x5, box blur 5x5, Sobel K1 and K2, diagonal K3 4x4. Each result is checked against\n"
                    + "a direct double loop and the largest difference printed. Default pictures: a generated 128x128\n"
                    + "scene with edges in several directions and an MNIST test digit (28x28). Writes one PNG per kernel,\n"
                    + "contact.png (all kernels side by side) and summary.txt into --out.")
            .flag("image", "FILE", null, "a PNG or JPEG to convolve instead of the built-in pictures (converted to grey in [0, 1])")
            .flag("kernel", "FILE", null, "a kernel to apply instead of the lecture's: rows of whitespace-separated numbers ('#' comments)")
            .flag("padding", "MODE", "both", "valid (no padding), same (zero padding to keep HxW) or both")
            .flag("backend", "NAME", "dnnl", "dnnl (oneDNN), simd (Vector API), reference (scalar), opencl or cuda")
            .flag("digit", "N", "0", "the MNIST test digit shown with the built-in scene (its index)")
            .flag("data", "DIR", null, "folder with the MNIST IDX files (else $ISTHMUS_DATA, the cache, or npm)")
            .flag("out", "DIR", null, "output folder (default runs/convolve-<timestamp>)")
            .example("convolve")
            .example("convolve --image photo.jpg --padding same --out runs/photo")
            .example("convolve --kernel my-kernel.txt --backend simd");

    @Override public String name() { return "convolve"; }

    @Override public String summary() { return "the lecture's kernels (edges, blur, Sobel) on a picture, through the engine's convolution"; }

    @Override public Args.Spec spec() { return spec; }

    @Override public int run(Args args, PrintStream out) throws Exception {
        Padding padding = args.choice("padding", Padding.values());
        BackendKind kind = args.choice("backend", BackendKind.values());
        Path outDir = args.has("out") ? args.path("out")
                : Path.of("runs", "convolve-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        List<Kernel> kernels = args.has("kernel") ? List.of(readKernel(args.existingFile("kernel"))) : LECTURE;
        List<Picture> pictures = new ArrayList<>();
        if (args.has("image")) {
            pictures.add(readPicture(args.existingFile("image")));
        } else {
            pictures.add(scene(128));
            pictures.add(digit(args.has("data") ? args.existingFolder("data") : null, args.intInRange("digit", 0, 9_999)));
        }
        for (Picture p : pictures) {
            for (Kernel k : kernels) {
                if (k.rows() > p.height() || k.cols() > p.width()) {
                    throw new Args.UsageError("kernel " + k.name() + " (" + k.size() + ") is larger than the picture "
                            + p.name() + " (" + p.size() + ")");
                }
            }
        }
        Files.createDirectories(outDir);
        List<Result> results = new ArrayList<>();
        String backendLine;
        try (Backend backend = Backends.create(kind)) {
            backendLine = backend.describe();
            out.printf(Locale.ROOT, "%d kernel%s on %d picture%s through %s; padding %s%n", kernels.size(),
                    kernels.size() == 1 ? "" : "s", pictures.size(), pictures.size() == 1 ? "" : "s", backendLine,
                    Args.cliName(padding));
            for (Kernel k : kernels) {
                for (Picture p : pictures) {
                    Result r = apply(backend, p, k, padding);
                    results.add(r);
                    out.println(line(r));
                }
            }
        }
        List<String> files = new ArrayList<>();
        for (Kernel k : kernels) {
            String file = k.name() + ".png";
            Png.write(kernelFigure(k, results.stream().filter(r -> r.kernel() == k).toList(), kind), outDir.resolve(file));
            files.add(file);
        }
        Png.write(contactSheet(kernels, pictures, results, padding), outDir.resolve("contact.png"));
        files.add("contact.png");
        files.add("summary.txt");
        Files.writeString(outDir.resolve("summary.txt"), summary(kernels, pictures, results, padding, backendLine, files),
                StandardCharsets.UTF_8);
        out.println("wrote " + outDir + ": " + String.join(" ", files));
        return 0;
    }

    // ---- the computation

    /** Zero padding per side: none for valid; (K-1)/2 before and the rest after for same (PyTorch's 'same'). */
    static Window window(Kernel k, boolean same) {
        int top = same ? (k.rows() - 1) / 2 : 0, left = same ? (k.cols() - 1) / 2 : 0;
        int bottom = same ? k.rows() - 1 - top : 0, right = same ? k.cols() - 1 - left : 0;
        return new Window(k.rows(), k.cols(), 1, 1, top, left, bottom, right, 0, 0);
    }

    static Result apply(Backend backend, Picture p, Kernel k, Padding padding) {
        float[] valid = null, same = null;
        double diff = 0;
        if (padding != Padding.SAME) {
            valid = engine(backend, p, k, window(k, false));
            diff = Math.max(diff, maxDifference(valid, direct(p, k, window(k, false))));
        }
        if (padding != Padding.VALID) {
            same = engine(backend, p, k, window(k, true));
            diff = Math.max(diff, maxDifference(same, direct(p, k, window(k, true))));
        }
        return new Result(p, k, valid, same, diff);
    }

    /** The picture cross-correlated with the kernel by the backend's convolution, (OH, OW). */
    static float[] engine(Backend backend, Picture p, Kernel k, Window window) {
        var spec = new Conv2dSpec(1, 1, p.height(), p.width(), 1, window, 1, false);
        try (Conv2dPlan plan = backend.conv2d(spec);
             Tensor src = backend.allocate(spec.srcShape(), DType.F32);          // (1, 1, H, W)
             Tensor weights = backend.allocate(spec.weightsShape(), DType.F32);  // (1, 1, KH, KW)
             Tensor dst = backend.allocate(spec.dstShape(), DType.F32)) {        // (1, 1, OH, OW)
            src.copyFrom(p.pixels());
            weights.copyFrom(k.flat());
            plan.forward(dst, src, weights, null);
            return dst.toFloatArray();
        }
    }

    /** The specification, in double: out(y, x) = sum_ij k(i, j) in(y + i - top, x + j - left), zero outside. */
    static double[] direct(Picture p, Kernel k, Window w) {
        int oh = w.outHeight(p.height()), ow = w.outWidth(p.width());
        double[] out = new double[oh * ow];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                double sum = 0;
                for (int i = 0; i < k.rows(); i++) {
                    int sy = y + i - w.padTop();
                    if (sy < 0 || sy >= p.height()) continue;
                    for (int j = 0; j < k.cols(); j++) {
                        int sx = x + j - w.padLeft();
                        if (sx >= 0 && sx < p.width()) sum += (double) k.weights()[i][j] * p.pixels()[sy * p.width() + sx];
                    }
                }
                out[y * ow + x] = sum;
            }
        }
        return out;
    }

    static double maxDifference(float[] engine, double[] direct) {
        if (engine.length != direct.length) {
            throw new IllegalStateException("the engine's output has " + engine.length + " values, the direct loop's " + direct.length);
        }
        double m = 0;
        for (int i = 0; i < engine.length; i++) m = Math.max(m, Math.abs(engine[i] - direct[i]));
        return m;
    }

    static String line(Result r) {
        Kernel k = r.kernel();
        Picture p = r.picture();
        String valid = r.valid() == null ? "" : "valid " + window(k, false).outHeight(p.height()) + "x" + window(k, false).outWidth(p.width());
        String same = r.same() == null ? "" : "same " + p.size();
        return String.format(Locale.ROOT, "%-12s %-5s on %-17s %-15s %-14s max |engine - direct| %.1e",
                k.name(), k.size(), p.name() + " " + p.size(), valid, same, r.maxDifference());
    }

    // ---- inputs

    /**
     * Reads a kernel: one row per line, numbers separated by whitespace; blank lines and text after
     * '#' are ignored. Every row must have as many numbers as the first.
     */
    static Kernel readKernel(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<float[]> rows = new ArrayList<>();
        int firstLine = 0;
        for (int n = 1; n <= lines.size(); n++) {
            String text = lines.get(n - 1);
            int hash = text.indexOf('#');
            if (hash >= 0) text = text.substring(0, hash);
            text = text.strip();
            if (text.isEmpty()) continue;
            String[] words = text.split("\\s+");
            float[] row = new float[words.length];
            for (int i = 0; i < words.length; i++) {
                try {
                    row[i] = Float.parseFloat(words[i]);
                } catch (NumberFormatException e) {
                    row[i] = Float.NaN;
                }
                if (!Float.isFinite(row[i])) {
                    throw new Args.UsageError("--kernel " + file + ": line " + n + ": '" + words[i] + "' is not a finite number");
                }
            }
            if (rows.isEmpty()) {
                firstLine = n;
            } else if (row.length != rows.getFirst().length) {
                throw new Args.UsageError("--kernel " + file + ": line " + n + " has " + row.length + " value"
                        + (row.length == 1 ? "" : "s") + " but line " + firstLine + " has " + rows.getFirst().length
                        + ": every row of a kernel needs the same number of values");
            }
            rows.add(row);
        }
        if (rows.isEmpty()) throw new Args.UsageError("--kernel " + file + ": no numbers in the file");
        if (rows.size() > 64 || rows.getFirst().length > 64) {
            throw new Args.UsageError("--kernel " + file + ": " + rows.size() + "x" + rows.getFirst().length
                    + " is larger than this demonstration takes (64x64)");
        }
        String name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "").replaceAll("[^A-Za-z0-9_-]", "_");
        Kernel k = new Kernel(name.isEmpty() ? "kernel" : name, "", rows.toArray(float[][]::new));
        return new Kernel(k.name(), k.name() + " " + k.size() + " from " + file.getFileName(), k.weights());
    }

    /** A picture file as grey in [0, 1]: 0.299 R + 0.587 G + 0.114 B. */
    static Picture readPicture(Path file) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) throw new Args.UsageError("--image " + file + ": not an image javax.imageio can read (PNG, JPEG, GIF, BMP)");
        int h = img.getHeight(), w = img.getWidth();
        if ((long) h * w > 16_000_000L) throw new Args.UsageError("--image " + file + ": " + w + "x" + h + " is larger than 16 megapixels");
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] grey = new float[h * w];
        for (int i = 0; i < grey.length; i++) {
            int c = rgb[i];
            grey[i] = (float) ((0.299 * (c >> 16 & 0xFF) + 0.587 * (c >> 8 & 0xFF) + 0.114 * (c & 0xFF)) / 255.0);
        }
        String name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        return new Picture(name.isEmpty() ? "image" : name, grey, h, w);
    }

    /**
     * A size x size test scene on black with edges in every direction: a bright rectangle
     * (horizontal and vertical edges), a grey diamond (both diagonals), a circle (all directions)
     * and diagonal stripes. Each pixel is the mean of 4x4 samples, so slanted edges are smooth.
     */
    static Picture scene(int size) {
        float[] px = new float[size * size];
        double u = size / 128.0;   // the layout is drawn for 128 and scaled
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double sum = 0;
                for (int sy = 0; sy < 4; sy++) {
                    for (int sx = 0; sx < 4; sx++) {
                        double fx = (x + (sx + 0.5) / 4) / u, fy = (y + (sy + 0.5) / 4) / u;
                        sum += sceneValue(fx, fy);
                    }
                }
                px[y * size + x] = (float) (sum / 16);
            }
        }
        return new Picture("scene", px, size, size);
    }

    private static double sceneValue(double x, double y) {
        if (x >= 12 && x < 52 && y >= 14 && y < 50) return 1.0;                                   // rectangle
        if (Math.abs(x - 92) + Math.abs(y - 33) <= 22) return 0.7;                                // diamond
        if ((x - 34) * (x - 34) + (y - 92) * (y - 92) <= 22 * 22) return 0.85;                    // circle
        if (x >= 72 && x < 118 && y >= 72 && y < 118) return Math.floorMod((int) Math.floor((x + y) / 8), 2) == 0 ? 1.0 : 0.0;
        return 0.0;
    }

    /** MNIST test digit {@code index}, 28x28, pixels / 255. */
    static Picture digit(Path dataDir, int index) {
        MnistFiles files = MnistLocator.standard().locate(dataDir);
        try (ImageDataset test = Mnist.load("mnist/test", files.testImages(), files.testLabels())) {
            if (index >= test.count()) throw new Args.UsageError("--digit " + index + ": the test set has " + test.count() + " digits");
            byte[] raw = test.rawImage(index);
            float[] px = new float[raw.length];
            for (int i = 0; i < px.length; i++) px[i] = (raw[i] & 0xFF) / 255f;
            return new Picture("digit-" + index, px, test.rawRows(), test.rawCols());
        }
    }

    // ---- pictures

    /** How much to enlarge a picture so that it shows at about 256 pixels. */
    static int scale(Picture p) {
        return Math.clamp(256 / Math.max(p.height(), p.width()), 1, 8);
    }

    static ImageGrid.Cell cell(float[] map, int h, int w, Kernel k, String caption) {
        return k.signed() ? Pictures.diverging(map, h, w, caption) : ImageGrid.normalized(map, h, w, caption);
    }

    private static BufferedImage kernelFigure(Kernel k, List<Result> results, BackendKind kind) {
        List<BufferedImage> rows = new ArrayList<>();
        for (Result r : results) {
            Picture p = r.picture();
            List<ImageGrid.Cell> cells = new ArrayList<>();
            cells.add(ImageGrid.grey(p.pixels(), p.height(), p.width(), 0, 1, "input " + p.size()));
            if (r.valid() != null) {
                Window w = window(k, false);
                int oh = w.outHeight(p.height()), ow = w.outWidth(p.width());
                cells.add(cell(r.valid(), oh, ow, k, "valid " + oh + "x" + ow));
            }
            if (r.same() != null) {
                Window w = window(k, true);
                cells.add(cell(r.same(), p.height(), p.width(), k,
                        "same " + p.size() + " (pad " + w.padTop() + "/" + w.padBottom() + ")"));
            }
            rows.add(ImageGrid.render(null, cells, cells.size(), scale(p)));
        }
        String legend = k.signed() ? "outputs: blue < 0 < red, symmetric around 0" : "outputs: black = min, white = max";
        BufferedImage body = Pictures.row(List.of(
                Pictures.column(List.of(Pictures.kernel(k.weights(), 40, "kernel " + k.size()), Pictures.text(List.of(k.flip())))),
                Pictures.column(rows)));
        return Pictures.titled(k.description() + "\napplied as cross-correlation by the " + kind.cliName() + " backend; " + legend, body);
    }

    private static BufferedImage contactSheet(List<Kernel> kernels, List<Picture> pictures, List<Result> results, Padding padding) {
        List<List<BufferedImage>> rows = new ArrayList<>();
        List<BufferedImage> header = new ArrayList<>();
        header.add(Pictures.text(List.of(padding == Padding.VALID ? "valid outputs" : "same outputs")));
        for (Kernel k : kernels) header.add(Pictures.kernel(k.weights(), 32, k.name()));
        rows.add(header);
        for (Picture p : pictures) {
            List<BufferedImage> row = new ArrayList<>();
            int s = Math.max(1, scale(p) / 2);
            row.add(ImageGrid.render(null, List.of(ImageGrid.grey(p.pixels(), p.height(), p.width(), 0, 1, p.name())), 1, s));
            for (Kernel k : kernels) {
                Result r = results.stream().filter(x -> x.kernel() == k && x.picture() == p).findFirst().orElseThrow();
                float[] map = r.same() != null ? r.same() : r.valid();
                Window w = window(k, r.same() != null);
                int oh = w.outHeight(p.height()), ow = w.outWidth(p.width());
                row.add(ImageGrid.render(null, List.of(cell(map, oh, ow, k, oh + "x" + ow)), 1, s));
            }
            rows.add(row);
        }
        return Pictures.titled("the lecture's kernels side by side (cross-correlation through the engine)", Pictures.grid(rows));
    }

    private static String summary(List<Kernel> kernels, List<Picture> pictures, List<Result> results, Padding padding,
                                  String backend, List<String> files) {
        StringBuilder s = new StringBuilder();
        s.append("isthmus convolve: ").append(kernels.size()).append(" kernel(s) on ").append(pictures.size())
                .append(" picture(s) through ").append(backend).append("; padding ").append(Args.cliName(padding)).append("\n\n");
        s.append("""
                The engine applies a kernel as cross-correlation, out(y, x) = sum_ij K(i, j) in(y + i - top, x + j - left),
                as oneDNN and PyTorch's conv2d do; a true convolution first turns the kernel by 180 degrees. For the
                lecture's kernels that changes at most the sign: the edge kernel and the box blur are symmetric
                (flip(K) = K), and Sobel K1, K2 and the diagonal K3 are antisymmetric (flip(K) = -K), so a true
                convolution gives the same maps negated (for the even 4x4 K3 with 'same' padding also moved by one
                pixel, because the uneven padding swaps sides when the kernel turns).

                valid: no padding, output (H-K+1)x(W-K+1). same: zero padding, output HxW, (K-1)/2 rows and columns
                of zeros before and K-1-(K-1)/2 after (PyTorch's padding='same': 2/2 for 5x5, 1/1 for 3x3, 1/2 for 4x4).
                Every engine output was compared with a direct loop in double precision.

                """);
        s.append(String.format(Locale.ROOT, "%-12s %-6s %-13s %-18s %-10s %-10s %-22s %s%n",
                "kernel", "size", "flip", "picture", "valid", "same", "output range", "max |engine - direct|"));
        for (Result r : results) {
            Kernel k = r.kernel();
            Picture p = r.picture();
            float[] map = r.same() != null ? r.same() : r.valid();
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (float v : map) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
            String valid = r.valid() == null ? "-" : window(k, false).outHeight(p.height()) + "x" + window(k, false).outWidth(p.width());
            s.append(String.format(Locale.ROOT, "%-12s %-6s %-13s %-18s %-10s %-10s %-22s %.1e%n", k.name(), k.size(), k.flip(),
                    p.name() + " " + p.size(), valid, r.same() == null ? "-" : p.size(),
                    String.format(Locale.ROOT, "[%.3g, %.3g]", lo, hi), r.maxDifference()));
        }
        s.append("\nfiles: ").append(String.join(" ", files)).append('\n');
        return s.toString();
    }
}
