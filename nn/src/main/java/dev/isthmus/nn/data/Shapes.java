package dev.isthmus.nn.data;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * A procedural image-classification dataset in {@link ImageFolder} layout:
 * {@code out/<class>/NNNN.png} (every tenth image {@code NNNN.jpg}, so both
 * decoders are exercised; or all one format, see {@link Format}), one class per geometric shape, each image with a
 * random shape colour, size, position and rotation on a flat or gradient
 * background with Gaussian pixel noise. Image i of class c is drawn from a
 * random stream of (seed, c, i) alone, so the output is the same for a seed
 * whatever the thread count. Not a benchmark of anything; a dataset small
 * enough to train AlexNet-shaped networks on in minutes.
 *
 * <p>Two difficulties. {@link Difficulty#HARD} (the default) draws from {@link #CLASSES}, which
 * include confusable pairs (circle and ellipse, square and diamond, plus and cross, pentagon and
 * hexagon), with random colours, gradient backgrounds, any rotation, shapes of 36-70% of the side
 * and noise up to std 10: AlexNet from scratch stays near chance for a few hundred steps on it. {@link Difficulty#EASY}
 * draws from {@link #EASY_CLASSES}, ten mutually distinct shapes, dark and saturated on a light,
 * nearly flat background, 40-64% of the side, turned by at most 15 degrees, noise std at most 3:
 * learnable in a hundred or two steps at full resolution (what {@code isthmus alexnet --synthetic} uses).
 */
public final class Shapes {

    /** The class names, in the order {@code classes} takes them. */
    public static final List<String> CLASSES = List.of("circle", "square", "triangle", "star", "cross", "ring",
            "hexagon", "diamond", "ellipse", "plus", "heart", "arrow", "pentagon", "crescent");

    /** The classes of {@link Difficulty#EASY}: ten shapes no two of which look alike, in the order {@code classes} takes them. */
    public static final List<String> EASY_CLASSES = List.of("circle", "square", "triangle", "star", "cross", "ring",
            "hexagon", "heart", "arrow", "crescent");

    /** How hard the images are to tell apart: see the class comment. */
    public enum Difficulty {
        /** Confusable classes, random colours and gradients, any rotation, noise. */
        HARD,
        /** Ten distinct classes, dark shapes on light flat backgrounds, large, nearly upright, little noise. */
        EASY;

        /** The class names of this difficulty, in order. */
        public List<String> classes() { return this == EASY ? EASY_CLASSES : CLASSES; }
    }

    /** The file format of the images written. */
    public enum Format {
        /** PNG, every tenth image a JPEG (both decoders exercised): the default. */
        MIXED,
        /** Every image a JPEG (quality 0.75, ImageIO's default): a folder shaped like ImageNet's. */
        JPEG,
        /** Every image a PNG. */
        PNG;

        boolean jpeg(int index) {
            return this == JPEG || (this == MIXED && index % 10 == 9);
        }
    }

    private Shapes() {}

    /**
     * Writes {@code perClass} images of {@code size x size} pixels for each
     * of the first {@code classes} shapes into {@code out/<class>/}, on up to
     * as many threads as there are processors.
     *
     * @return the class folders written, in class order
     */
    public static List<Path> write(Path out, int classes, int perClass, int size, long seed) {
        return write(out, classes, perClass, size, seed, Difficulty.HARD);
    }

    /**
     * Writes {@code perClass} images of {@code size x size} pixels for each of the first
     * {@code classes} shapes of {@code difficulty} into {@code out/<class>/}.
     *
     * @return the class folders written, in class order
     */
    public static List<Path> write(Path out, int classes, int perClass, int size, long seed, Difficulty difficulty) {
        return write(out, classes, perClass, size, seed, difficulty, Format.MIXED);
    }

    /**
     * {@link #write(Path, int, int, int, long, Difficulty)} in {@code format}; the same seed draws the
     * same pictures in every format.
     */
    public static List<Path> write(Path out, int classes, int perClass, int size, long seed, Difficulty difficulty,
            Format format) {
        List<String> names = difficulty.classes();
        if (classes < 1 || classes > names.size()) {
            throw new IllegalArgumentException("Shapes: classes must be in [1, " + names.size() + "] (" + names
                    + "), got " + classes);
        }
        if (perClass < 1 || perClass > 9999 || size < 8) {
            throw new IllegalArgumentException("Shapes: perClass must be in [1, 9999] and size at least 8, got "
                    + perClass + " and " + size);
        }
        List<Path> dirs = new ArrayList<>();
        try {
            for (int c = 0; c < classes; c++) {
                dirs.add(Files.createDirectories(out.resolve(names.get(c))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Shapes: cannot create the class folders under " + out, e);
        }
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("isthmus-shapes-", 1).daemon(true).factory());
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int c = 0; c < classes; c++) {
                for (int i = 0; i < perClass; i++) {
                    int cls = c, index = i;
                    jobs.add(pool.submit(() -> {
                        writeOne(dirs.get(cls), cls, index, size, seed, difficulty, format.jpeg(index));
                        return null;
                    }));
                }
            }
            for (Future<?> f : jobs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Shapes: interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("Shapes: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return dirs;
    }

    private static void writeOne(Path dir, int cls, int index, int size, long seed, Difficulty difficulty,
            boolean jpeg) {
        long s = Seeds.mix(Seeds.mix(seed, cls), index);
        BufferedImage img = difficulty == Difficulty.EASY ? renderEasy(cls, size, s) : render(cls, size, s);
        Path file = dir.resolve(String.format("%04d.%s", index, jpeg ? "jpg" : "png"));
        ImageWriter writer = ImageIO.getImageWritersByFormatName(jpeg ? "jpg" : "png").next();
        try (ImageOutputStream stream = ImageIO.createImageOutputStream(Files.newOutputStream(file))) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (!jpeg) { // fast deflate: noisy images barely compress anyway
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(0.85f);
            }
            writer.setOutput(stream);
            writer.write(null, new IIOImage(img, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("Shapes: cannot write " + file, e);
        } finally {
            writer.dispose();
        }
    }

    /** Image {@code seed} of class {@code cls}: (size, size) RGB. */
    public static BufferedImage render(int cls, int size, long seed) {
        if (cls < 0 || cls >= CLASSES.size()) {
            throw new IllegalArgumentException("Shapes: class must be in [0, " + CLASSES.size() + "), got " + cls);
        }
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            Color bg1 = randomColor(r), bg2 = r.nextBoolean() ? randomColor(r) : bg1;
            g.setPaint(new GradientPaint(r.nextFloat() * size, r.nextFloat() * size, bg1,
                    r.nextFloat() * size, r.nextFloat() * size, bg2));
            g.fill(new Rectangle2D.Double(0, 0, size, size));
            Color fg = randomColor(r);
            for (int tries = 0; tries < 50 && (distance(fg, bg1) < 120 || distance(fg, bg2) < 120); tries++) {
                fg = randomColor(r);
            }
            g.setPaint(fg);
            double radius = size * (0.18 + 0.17 * r.nextDouble());
            double cx = radius + r.nextDouble() * (size - 2 * radius);
            double cy = radius + r.nextDouble() * (size - 2 * radius);
            String name = CLASSES.get(cls);
            boolean upright = name.equals("square") || name.equals("diamond") || name.equals("cross")
                    || name.equals("plus");
            // Squares and diamonds, pluses and crosses differ by 45 degrees: those turn by at most 15.
            double angle = upright ? Math.toRadians(30 * r.nextDouble() - 15) : 2 * Math.PI * r.nextDouble();
            AffineTransform at = new AffineTransform();
            at.translate(cx, cy);
            at.rotate(angle);
            at.scale(radius, radius);
            g.fill(at.createTransformedShape(shape(name, r)));
        } finally {
            g.dispose();
        }
        double noise = 10 * r.nextDouble();
        if (noise > 0.5) {
            // Gaussian noise through a table of 1024 draws indexed at random: far cheaper than a draw per byte.
            int[] table = new int[1024];
            for (int k = 0; k < table.length; k++) {
                table[k] = (int) Math.round(noise * r.nextGaussian());
            }
            byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            for (int i = 0; i < data.length; i += 6) {
                long bits = r.nextLong();
                for (int j = 0; j < 6 && i + j < data.length; j++, bits >>>= 10) {
                    data[i + j] = (byte) Math.clamp((data[i + j] & 0xff) + table[(int) (bits & 1023)], 0, 255);
                }
            }
        }
        return img;
    }

    /**
     * Image {@code seed} of {@link Difficulty#EASY} class {@code cls} (an index into
     * {@link #EASY_CLASSES}): (size, size) RGB, a dark saturated shape of diameter 40-64% of the
     * side on a light background with a faint gradient, turned by at most 15 degrees, noise std
     * at most 3.
     */
    public static BufferedImage renderEasy(int cls, int size, long seed) {
        if (cls < 0 || cls >= EASY_CLASSES.size()) {
            throw new IllegalArgumentException("Shapes: class must be in [0, " + EASY_CLASSES.size() + "), got " + cls);
        }
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            Color bg1 = lightColor(r), bg2 = lightColor(r);
            g.setPaint(new GradientPaint(0, 0, bg1, size, size, bg2));
            g.fill(new Rectangle2D.Double(0, 0, size, size));
            // A dark, saturated colour: one channel up to 140, the others below 60.
            int[] rgb = {r.nextInt(60), r.nextInt(60), r.nextInt(60)};
            rgb[r.nextInt(3)] = r.nextInt(141);
            g.setPaint(new Color(rgb[0], rgb[1], rgb[2]));
            double radius = size * (0.20 + 0.12 * r.nextDouble());
            // Centred within 12% of the side, so that a 227 crop of 256 keeps nearly all the shape.
            double cx = size * (0.5 + 0.24 * (r.nextDouble() - 0.5));
            double cy = size * (0.5 + 0.24 * (r.nextDouble() - 0.5));
            double angle = Math.toRadians(30 * r.nextDouble() - 15);
            AffineTransform at = new AffineTransform();
            at.translate(cx, cy);
            at.rotate(angle);
            at.scale(radius, radius);
            g.fill(at.createTransformedShape(shape(EASY_CLASSES.get(cls), r)));
        } finally {
            g.dispose();
        }
        double noise = 3 * r.nextDouble();
        if (noise > 0.5) {
            byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
            int[] table = new int[1024];
            for (int k = 0; k < table.length; k++) {
                table[k] = (int) Math.round(noise * r.nextGaussian());
            }
            for (int i = 0; i < data.length; i += 6) {
                long bits = r.nextLong();
                for (int j = 0; j < 6 && i + j < data.length; j++, bits >>>= 10) {
                    data[i + j] = (byte) Math.clamp((data[i + j] & 0xff) + table[(int) (bits & 1023)], 0, 255);
                }
            }
        }
        return img;
    }

    /** A light colour: each channel in [190, 255]. */
    private static Color lightColor(SplittableRandom r) {
        return new Color(190 + r.nextInt(66), 190 + r.nextInt(66), 190 + r.nextInt(66));
    }

    private static Color randomColor(SplittableRandom r) {
        return new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256));
    }

    private static double distance(Color a, Color b) {
        int dr = a.getRed() - b.getRed(), dg = a.getGreen() - b.getGreen(), db = a.getBlue() - b.getBlue();
        return Math.sqrt(dr * dr + dg * dg + db * db);
    }

    /** The shape of a class in the unit box [-1, 1]^2. */
    private static Shape shape(String name, SplittableRandom r) {
        return switch (name) {
            case "circle" -> new Ellipse2D.Double(-1, -1, 2, 2);
            case "square" -> new Rectangle2D.Double(-0.8, -0.8, 1.6, 1.6);
            case "triangle" -> star(3, 1, 1);
            case "star" -> star(5, 1, 0.4);
            case "pentagon" -> star(5, 1, 1);
            case "hexagon" -> star(6, 1, 1);
            case "diamond" -> polygon(0, -1, 0.6, 0, 0, 1, -0.6, 0);
            case "ellipse" -> {
                double b = 0.4 + 0.2 * r.nextDouble();
                yield new Ellipse2D.Double(-1, -b, 2, 2 * b);
            }
            case "ring" -> {
                Area a = new Area(new Ellipse2D.Double(-1, -1, 2, 2));
                double in = 0.5 + 0.15 * r.nextDouble();
                a.subtract(new Area(new Ellipse2D.Double(-in, -in, 2 * in, 2 * in)));
                yield a;
            }
            case "crescent" -> {
                Area a = new Area(new Ellipse2D.Double(-1, -1, 2, 2));
                a.subtract(new Area(new Ellipse2D.Double(-0.55, -0.95, 1.9, 1.9)));
                yield a;
            }
            case "plus" -> bars(0.22);
            case "cross" -> AffineTransform.getRotateInstance(Math.PI / 4).createTransformedShape(bars(0.22));
            case "heart" -> {
                Path2D.Double p = new Path2D.Double();
                p.moveTo(0, 1);
                p.curveTo(-0.9, 0.35, -1.2, -0.35, -0.6, -0.8);
                p.curveTo(-0.3, -1.0, 0, -0.8, 0, -0.45);
                p.curveTo(0, -0.8, 0.3, -1.0, 0.6, -0.8);
                p.curveTo(1.2, -0.35, 0.9, 0.35, 0, 1);
                p.closePath();
                yield p;
            }
            case "arrow" -> polygon(-1, -0.18, 0.2, -0.18, 0.2, -0.55, 1, 0, 0.2, 0.55, 0.2, 0.18, -1, 0.18);
            default -> throw new AssertionError(name);
        };
    }

    /** A regular star with n points of radius outer and inner vertices at radius inner (inner = outer: a polygon). */
    private static Shape star(int n, double outer, double inner) {
        Path2D.Double p = new Path2D.Double();
        int vertices = inner == outer ? n : 2 * n;
        for (int k = 0; k < vertices; k++) {
            double rad = inner == outer || k % 2 == 0 ? outer : inner;
            double a = -Math.PI / 2 + 2 * Math.PI * k / vertices;
            if (k == 0) {
                p.moveTo(rad * Math.cos(a), rad * Math.sin(a));
            } else {
                p.lineTo(rad * Math.cos(a), rad * Math.sin(a));
            }
        }
        p.closePath();
        return p;
    }

    private static Shape polygon(double... xy) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(xy[0], xy[1]);
        for (int i = 2; i < xy.length; i += 2) {
            p.lineTo(xy[i], xy[i + 1]);
        }
        p.closePath();
        return p;
    }

    /** A plus of two bars of half-width w. */
    private static Shape bars(double w) {
        Area a = new Area(new Rectangle2D.Double(-1, -w, 2, 2 * w));
        a.add(new Area(new Rectangle2D.Double(-w, -1, 2 * w, 2)));
        return a;
    }
}
