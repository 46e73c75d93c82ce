// Digits written unlike MNIST, drawn by Isthmus itself for the lecture's "unusual patterns" demo of
// LeNet-5: each digit 0-9 is a few strokes (polylines in a unit box, y down), rendered into the
// 32x32 preprocessed frame (background -0.1, ink 1.175, the digit in the central 20x20 box as
// MNIST's) in one of several styles: plain, thick, thin, dotted, outlined, slanted, and with clutter
// (random strokes and specks around the digit). Rendering is anti-aliased by distance to the stroke;
// clutter is seeded, so the pictures are the same on every run.
package dev.isthmus.examples;

import dev.isthmus.nn.data.Mnist;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Generates stylised digits as (32, 32) preprocessed images. */
final class UnusualDigits {
    private UnusualDigits() {}

    static final int SIDE = Mnist.SIZE;

    /** The styles, in the order of the panel's rows. */
    enum Style { PLAIN, THICK, THIN, DOTTED, OUTLINED, SLANTED, CLUTTER }

    /** One generated digit: its style, its class, its pixels (32, 32). */
    record Digit(Style style, int label, float[] pixels) {}

    /** Every style x every digit 0-9, style-major. */
    static List<Digit> all(long seed) {
        List<Digit> list = new ArrayList<>();
        for (Style s : Style.values()) for (int d = 0; d <= 9; d++) list.add(new Digit(s, d, render(d, s, seed * 31 + d)));
        return list;
    }

    /** The strokes of digit {@code d}: polylines of (x, y) in [0, 1]^2, y down. */
    static List<double[]> strokes(int d) {
        return switch (d) {
            case 0 -> List.of(arc(0.5, 0.5, 0.4, 0.5, 0, 360));
            case 1 -> List.of(new double[] {0.3, 0.2, 0.55, 0.0, 0.55, 1.0});
            case 2 -> List.of(join(arc(0.5, 0.28, 0.38, 0.28, 200, 370), new double[] {0.1, 1.0, 0.92, 1.0}));
            case 3 -> List.of(arc(0.5, 0.26, 0.34, 0.26, 200, 450), arc(0.5, 0.73, 0.4, 0.27, 270, 520));
            case 4 -> List.of(new double[] {0.7, 1.0, 0.7, 0.0, 0.05, 0.68, 0.95, 0.68});
            case 5 -> List.of(join(new double[] {0.85, 0.0, 0.25, 0.0, 0.2, 0.45}, arc(0.5, 0.68, 0.38, 0.32, 225, 500)));
            case 6 -> List.of(join(new double[] {0.75, 0.0, 0.4, 0.3}, arc(0.5, 0.7, 0.36, 0.3, 160, 530)));
            case 7 -> List.of(new double[] {0.05, 0.0, 0.95, 0.0, 0.4, 1.0});
            case 8 -> List.of(arc(0.5, 0.25, 0.3, 0.25, 0, 360), arc(0.5, 0.74, 0.38, 0.26, 0, 360));
            case 9 -> List.of(arc(0.5, 0.3, 0.36, 0.3, 0, 360), new double[] {0.86, 0.3, 0.6, 1.0});
            default -> throw new IllegalArgumentException("digit " + d + " is not in 0..9");
        };
    }

    /** An ellipse arc from angle a0 to a1 (degrees; 0 is +x, 90 is down since y points down). */
    static double[] arc(double cx, double cy, double rx, double ry, double a0, double a1) {
        int n = (int) Math.ceil(Math.abs(a1 - a0) / 10) + 1;
        double[] p = new double[2 * n];
        for (int i = 0; i < n; i++) {
            double a = Math.toRadians(a0 + (a1 - a0) * i / (n - 1));
            p[2 * i] = cx + rx * Math.cos(a);
            p[2 * i + 1] = cy + ry * Math.sin(a);
        }
        return p;
    }

    private static double[] join(double[] a, double[] b) {
        double[] c = new double[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Digit {@code d} in style {@code s} as a preprocessed (32, 32) image. */
    static float[] render(int d, Style s, long seed) {
        // the unit box becomes 14 x 20 pixels centred in the frame (MNIST: 20x20 box, centred by mass)
        double w = 14, h = 20, x0 = (SIDE - w) / 2, y0 = (SIDE - h) / 2, shear = s == Style.SLANTED ? 0.45 : 0.18;
        List<double[]> px = new ArrayList<>();
        for (double[] line : strokes(d)) {
            double[] q = new double[line.length];
            for (int i = 0; i < line.length; i += 2) {
                double y = y0 + line[i + 1] * h;
                q[i] = x0 + line[i] * w + shear * (SIDE / 2.0 - y);   // slant to the right going up
                q[i + 1] = y;
            }
            px.add(q);
        }
        double[] ink = new double[SIDE * SIDE];
        switch (s) {
            case THICK -> stroke(ink, px, 2.4);
            case THIN -> stroke(ink, px, 0.55);
            case DOTTED -> dots(ink, px, 1.1, 3.6);
            case OUTLINED -> {
                double[] outer = new double[ink.length], inner = new double[ink.length];
                stroke(outer, px, 2.8);
                stroke(inner, px, 1.5);
                for (int i = 0; i < ink.length; i++) ink[i] = Math.max(0, outer[i] - inner[i]);
            }
            case CLUTTER -> {
                stroke(ink, px, 1.3);
                clutter(ink, new Random(seed));
            }
            default -> stroke(ink, px, 1.3);
        }
        float[] out = new float[ink.length];
        for (int i = 0; i < ink.length; i++) {
            out[i] = (float) (Mnist.BACKGROUND + (Mnist.FOREGROUND - Mnist.BACKGROUND) * Math.min(1, ink[i]));
        }
        return out;
    }

    /** Ink where a pixel centre lies within {@code radius} of a polyline, anti-aliased over one pixel. */
    static void stroke(double[] ink, List<double[]> lines, double radius) {
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                double best = Double.POSITIVE_INFINITY;
                for (double[] l : lines) {
                    for (int i = 0; i + 3 < l.length; i += 2) best = Math.min(best, segment(x + 0.5, y + 0.5, l[i], l[i + 1], l[i + 2], l[i + 3]));
                }
                ink[y * SIDE + x] = Math.max(ink[y * SIDE + x], Math.clamp(radius + 0.5 - best, 0, 1));
            }
        }
    }

    /** Round dots of {@code radius} every {@code spacing} pixels along each polyline. */
    private static void dots(double[] ink, List<double[]> lines, double radius, double spacing) {
        List<double[]> centres = new ArrayList<>();
        for (double[] l : lines) {
            double since = spacing;   // a dot at the start of every polyline, then one every spacing pixels of arc
            for (int i = 0; i + 3 < l.length; i += 2) {
                double dx = l[i + 2] - l[i], dy = l[i + 3] - l[i + 1], len = Math.hypot(dx, dy);
                for (double t = 0; t < len; t += 0.05, since += 0.05) {
                    if (since >= spacing) {
                        centres.add(new double[] {l[i] + dx * t / len, l[i + 1] + dy * t / len});
                        since = 0;
                    }
                }
            }
        }
        for (double[] c : centres) stroke(ink, List.<double[]>of(new double[] {c[0], c[1], c[0], c[1]}), radius);
    }

    /** Random short strokes and specks in the frame, avoiding nothing: the digit must survive them. */
    private static void clutter(double[] ink, Random random) {
        List<double[]> lines = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            double x = 2 + random.nextDouble() * 28, y = 2 + random.nextDouble() * 28, a = random.nextDouble() * Math.PI;
            double len = 4 + random.nextDouble() * 5;
            lines.add(new double[] {x, y, x + len * Math.cos(a), y + len * Math.sin(a)});
        }
        for (int i = 0; i < 6; i++) {
            double x = 1 + random.nextDouble() * 30, y = 1 + random.nextDouble() * 30;
            lines.add(new double[] {x, y, x, y});
        }
        stroke(ink, lines, 0.8);
    }

    /** The distance from (px, py) to the segment (ax, ay)-(bx, by). */
    static double segment(double px, double py, double ax, double ay, double bx, double by) {
        double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        double t = len2 == 0 ? 0 : Math.clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1);
        return Math.hypot(px - ax - t * dx, py - ay - t * dy);
    }
}
