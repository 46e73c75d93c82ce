package dev.isthmus.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Window;

/**
 * The convolution problems the benchmarks run, written once in oneDNN benchdnn's descriptor
 * notation (https://github.com/uxlfoundation/oneDNN/blob/main/tests/benchdnn/doc/driver_conv.md),
 * and the parser that turns a descriptor into a {@link Conv2dSpec}:
 *
 * <pre>
 *   g2mb32ic96ih27oc256oh27kh5ph2n"alexnet:conv2"
 *   groups 2, batch 32, 96 input channels of 27x27, 256 output channels of 27x27, 5x5 kernel, padding 2
 * </pre>
 *
 * Fields: {@code g mb ic ih iw oc oh ow kh kw sh sw ph pw dh dw} then {@code n} and the name
 * (quotes optional) up to the end; {@code _} is ignored. Channels are totals, not per group.
 * benchdnn's rules fill the rest: {@code mb} 2, {@code g} 1, strides 1, dilations 0 (oneDNN's
 * "none", PyTorch's 1); a missing output size is computed, a missing padding is derived from
 * the output size; a missing width axis copies the height axis (square form), a missing height
 * axis makes a 1-D problem (height 1); the right/bottom padding is what makes the output size
 * come out, as in benchdnn. Every problem has a bias
 * (benchdnn's default direction, FWD_B). 3-D fields ({@code id od kd sd pd dd}) are rejected.
 * Not the parser of the whole benchdnn command line: option lines ({@code --dir=...}) are refused.
 */
final class Problems {
    private Problems() {}

    /** A named convolution: the name the benchmarks take as {@code @Param}, its descriptor, its geometry. */
    record Problem(String name, String descriptor, Conv2dSpec spec) {}

    /**
     * AlexNet (Krizhevsky, Sutskever and Hinton 2012) at batch 32: conv2, conv4 and conv5 in
     * the paper's two groups, conv2 also in one group; LeNet-5 (LeCun et al. 1998) at batch 64.
     */
    static final List<String> DESCRIPTORS = List.of(
            "mb32ic3ih227oc96oh55kh11sh4ph0n\"alexnet:conv1\"",
            "g2mb32ic96ih27oc256oh27kh5ph2n\"alexnet:conv2\"",
            "mb32ic96ih27oc256oh27kh5ph2n\"alexnet:conv2-g1\"",
            "mb32ic256ih13oc384oh13kh3ph1n\"alexnet:conv3\"",
            "g2mb32ic384ih13oc384oh13kh3ph1n\"alexnet:conv4\"",
            "g2mb32ic384ih13oc256oh13kh3ph1n\"alexnet:conv5\"",
            "mb64ic1ih32oc6oh28kh5ph0n\"lenet:c1\"",
            "mb64ic6ih14oc16oh10kh5ph0n\"lenet:c3\"",
            "mb64ic16ih5oc120oh1kh5ph0n\"lenet:c5\"");

    // Declared before TABLE: the parser runs in the static initialiser.
    private static final String[] FIELDS = {
        "g", "mb", "ic", "ih", "iw", "oc", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"};
    private static final List<String> FIELDS_3D = List.of("id", "od", "kd", "sd", "pd", "dd");
    private static final int UNSET = -1;

    private static final Map<String, Problem> TABLE = index(DESCRIPTORS);

    /** The built-in problems by name, in table order. */
    static Map<String, Problem> table() { return TABLE; }

    /** A built-in problem by name, or, if {@code nameOrDescriptor} is not a name, the problem it describes. */
    static Problem resolve(String nameOrDescriptor) {
        Problem p = TABLE.get(nameOrDescriptor);
        if (p != null) return p;
        try {
            return parse(nameOrDescriptor);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + nameOrDescriptor + "' is neither a known problem " + TABLE.keySet()
                    + " nor a valid benchdnn descriptor: " + e.getMessage(), e);
        }
    }

    /**
     * The problems of a benchdnn shapes file: one descriptor a line; blank lines and lines
     * starting with {@code #} are skipped. Errors name the file and line.
     */
    static List<Problem> readShapes(Path file) throws IOException {
        List<Problem> problems = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (line.startsWith("--")) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": benchdnn option '" + line
                        + "' is not supported in a shapes file; write descriptors only");
            }
            try {
                problems.add(parse(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return problems;
    }

    /** Parses one descriptor; the message of any error quotes it and says what is wrong. */
    static Problem parse(String descriptor) {
        String d = descriptor.strip();
        if (d.isEmpty()) throw new IllegalArgumentException("empty descriptor");
        Map<String, Integer> v = new LinkedHashMap<>();
        String name = null;
        int at = 0;
        while (at < d.length()) {
            char c = d.charAt(at);
            if (c == '_') {
                at++;
                continue;
            }
            if (c == 'n') {
                name = unquote(d.substring(at + 1));
                break;
            }
            String field = fieldAt(d, at);
            if (field == null) {
                String rest = d.substring(at, Math.min(d.length(), at + 6));
                if (FIELDS_3D.contains(d.substring(at, Math.min(d.length(), at + 2)))) {
                    throw new IllegalArgumentException("descriptor '" + d + "': 3-D field '" + rest
                            + "...' is not supported (Conv2dSpec is 2-D)");
                }
                throw new IllegalArgumentException("descriptor '" + d + "': unknown field at position " + at + " ('"
                        + rest + "...'); expected one of " + String.join(", ", FIELDS) + " or n\"name\"");
            }
            int start = at + field.length(), end = start;
            while (end < d.length() && Character.isDigit(d.charAt(end))) end++;
            if (end == start) {
                throw new IllegalArgumentException("descriptor '" + d + "': field '" + field + "' has no value");
            }
            if (v.containsKey(field)) {
                throw new IllegalArgumentException("descriptor '" + d + "': field '" + field + "' given twice");
            }
            try {
                v.put(field, Integer.parseInt(d.substring(start, end)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("descriptor '" + d + "': field '" + field + "' value "
                        + d.substring(start, end) + " is too large", e);
            }
            at = end;
        }
        if (name == null || name.isEmpty()) name = d;
        int ic = v.getOrDefault("ic", 0), oc = v.getOrDefault("oc", 0);
        if (ic <= 0 || oc <= 0) {
            throw new IllegalArgumentException("descriptor '" + d + "': ic and oc are required and must be > 0");
        }
        int g = v.getOrDefault("g", 1), mb = v.getOrDefault("mb", 2);
        if (g <= 0 || mb <= 0) throw new IllegalArgumentException("descriptor '" + d + "': g and mb must be > 0");

        Axis h = Axis.of(v, "h"), w = Axis.of(v, "w");
        if (h.absent() && w.absent()) {
            throw new IllegalArgumentException("descriptor '" + d + "': no spatial size; give at least ih and kh");
        }
        if (w.absent()) w = h;                                        // square form
        if (h.absent()) h = new Axis(1, UNSET, 1, 1, 0, 0);           // 1-D: a height of one
        h = h.resolve(d, "h");
        w = w.resolve(d, "w");
        Window window = new Window(h.k, w.k, h.s, w.s, h.p, w.p, h.padAfter(), w.padAfter(), h.dil, w.dil);
        Conv2dSpec spec;
        try {
            spec = new Conv2dSpec(mb, ic, h.i, w.i, oc, window, g, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("descriptor '" + d + "': " + e.getMessage(), e);
        }
        if (spec.outHeight() != h.o || spec.outWidth() != w.o) {
            throw new IllegalArgumentException("descriptor '" + d + "': output " + h.o + "x" + w.o
                    + " does not follow from the geometry " + window + ", which gives " + spec.outHeight() + "x" + spec.outWidth());
        }
        return new Problem(name, d, spec);
    }

    private static String fieldAt(String d, int at) {
        // Two-letter fields first: "g" is the only one-letter field and no two-letter one starts with g.
        for (String f : FIELDS) {
            if (d.startsWith(f, at) && at + f.length() < d.length() && Character.isDigit(d.charAt(at + f.length()))) return f;
        }
        return null;
    }

    private static String unquote(String s) {
        s = s.strip();
        if (s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /** One spatial axis: input i, output o, kernel k, stride s, padding before p, dilation dil (UNSET if not given). */
    private record Axis(int i, int o, int k, int s, int p, int dil) {
        static Axis of(Map<String, Integer> v, String axis) {
            return new Axis(v.getOrDefault("i" + axis, UNSET), v.getOrDefault("o" + axis, UNSET),
                    v.getOrDefault("k" + axis, UNSET), v.getOrDefault("s" + axis, UNSET),
                    v.getOrDefault("p" + axis, UNSET), v.getOrDefault("d" + axis, UNSET));
        }

        /** benchdnn's test: nothing but a stride of 1 and a padding of 0 given. */
        boolean absent() {
            return i == UNSET && o == UNSET && k == UNSET && dil == UNSET && (s == UNSET || s == 1) && (p == UNSET || p == 0);
        }

        Axis resolve(String d, String axis) {
            if (i <= 0 || k <= 0) {
                throw new IllegalArgumentException("descriptor '" + d + "': i" + axis + " and k" + axis + " are required and must be > 0");
            }
            int stride = s == UNSET ? 1 : s, dilation = dil == UNSET ? 0 : dil;
            if (stride <= 0) throw new IllegalArgumentException("descriptor '" + d + "': s" + axis + " must be > 0");
            int extent = (k - 1) * (dilation + 1) + 1;
            int pad = p, out = o;
            if (out == UNSET || out == 0) {
                if (pad == UNSET) pad = 0;
                out = (i - extent + 2 * pad) / stride + 1;
            } else if (pad == UNSET) {
                pad = ((out - 1) * stride - i + extent) / 2;   // benchdnn's "trivial padding"
            }
            if (pad < 0 || out <= 0) {
                throw new IllegalArgumentException("descriptor '" + d + "': axis " + axis + " gives padding " + pad
                        + " and output " + out + " for input " + i + ", kernel " + k + ", stride " + stride);
            }
            return new Axis(i, out, k, stride, pad, dilation);
        }

        /** oneDNN's right padding: what makes (i + p + pAfter - extent) / s + 1 equal o exactly. */
        int padAfter() {
            int extent = (k - 1) * (dil + 1) + 1;
            int after = (o - 1) * s - i + extent - p;
            // Negative means oneDNN drops input at the end; the floor in Window does the same with 0.
            return Math.max(0, after);
        }
    }

    private static Map<String, Problem> index(List<String> descriptors) {
        Map<String, Problem> m = new LinkedHashMap<>();
        for (String d : descriptors) {
            Problem p = parse(d);
            if (m.put(p.name(), p) != null) throw new IllegalStateException("problem name " + p.name() + " appears twice");
        }
        return m;
    }
}
