package dev.isthmus.nn.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON writer and reader (RFC 8259), for metrics.json and the
 * safetensors header. Not a data-binding library: values are plain Java
 * objects.
 *
 * <p>Writing accepts {@code Map} (String keys, order kept), {@code Collection},
 * {@code long[]}/{@code int[]}/{@code double[]}/{@code Object[]}, {@code String},
 * integral numbers (written as integers), {@code float}/{@code double} (must be
 * finite; NaN and infinities are rejected because JSON has no spelling for
 * them), {@code Boolean} and {@code null}. Strings are escaped as serde_json
 * does (quote, backslash, control characters; nothing else), so compact output
 * is byte-identical to the Rust/Python safetensors header writer.
 *
 * <p>Reading gives {@code Map<String,Object>} (a {@code LinkedHashMap}, file
 * order), {@code List<Object>}, {@code String}, {@code Long} (an integer
 * literal that fits) or {@code Double} (anything else), {@code Boolean} and
 * {@code null}. It rejects trailing commas, comments, leading zeros, bad
 * escapes, raw control characters, lone surrogates, duplicate keys and
 * trailing garbage; every error names the offset ("expected ',' or '}' at
 * offset 123").
 */
public final class Json {

    /** Nesting deeper than this is rejected instead of overflowing the stack. */
    static final int MAX_DEPTH = 512;

    private Json() {}

    /** Pretty-printed with a 2-space indent; arrays of scalars stay on one line. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, true).value(value, 0, "$");
        return out.toString();
    }

    /** No whitespace at all, as serde_json's {@code to_string} writes. */
    public static String writeCompact(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, false).value(value, 0, "$");
        return out.toString();
    }

    /** Parses one JSON value; the whole text must be that value plus whitespace. */
    public static Object read(String text) {
        Reader reader = new Reader(text);
        reader.skipWhitespace();
        Object value = reader.value(0);
        reader.skipWhitespace();
        if (reader.pos != text.length()) {
            throw reader.error("expected end of input");
        }
        return value;
    }

    /** Parses a JSON object; anything else at the top level is an error. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readObject(String text) {
        Object value = read(text);
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("JSON: expected an object at the top level, got "
                    + typeName(value));
        }
        return (Map<String, Object>) value;
    }

    static String typeName(Object value) {
        if (value == null) return "null";
        if (value instanceof Map) return "an object";
        if (value instanceof List) return "an array";
        if (value instanceof String) return "a string";
        if (value instanceof Boolean) return "a boolean";
        if (value instanceof Long) return "an integer";
        return "a number";
    }

    // ---------------------------------------------------------------- writer

    private record Writer(StringBuilder out, boolean pretty) {

        void value(Object v, int depth, String path) {
            if (depth > MAX_DEPTH) {
                throw new IllegalArgumentException("JSON: nesting deeper than " + MAX_DEPTH + " at " + path);
            }
            switch (v) {
                case null -> out.append("null");
                case String s -> string(s);
                case Boolean b -> out.append(b);
                case Long l -> out.append(l.longValue());
                case Integer i -> out.append(i.intValue());
                case Short s -> out.append(s.shortValue());
                case Byte b -> out.append(b.byteValue());
                case Double d -> number(d, path);
                case Float f -> number(f.doubleValue(), path);
                case Number n -> throw new IllegalArgumentException("JSON: unsupported number type "
                        + n.getClass().getName() + " at " + path);
                case Map<?, ?> m -> object(m, depth, path);
                case Collection<?> c -> array(new ArrayList<>(c), depth, path);
                case long[] a -> { List<Object> l = new ArrayList<>(); for (long x : a) l.add(x); array(l, depth, path); }
                case int[] a -> { List<Object> l = new ArrayList<>(); for (int x : a) l.add((long) x); array(l, depth, path); }
                case double[] a -> { List<Object> l = new ArrayList<>(); for (double x : a) l.add(x); array(l, depth, path); }
                case Object[] a -> array(Arrays.asList(a), depth, path);
                default -> throw new IllegalArgumentException("JSON: cannot write a "
                        + v.getClass().getName() + " at " + path);
            }
        }

        void number(double d, String path) {
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("JSON: cannot write " + d + " at " + path
                        + " (JSON has no NaN or Infinity; write null or a string instead)");
            }
            // Double.toString gives the shortest round-tripping form, e.g. 0.1, 1.0E-5: valid JSON.
            out.append(Double.toString(d));
        }

        void object(Map<?, ?> m, int depth, String path) {
            if (m.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON: object key " + e.getKey() + " at " + path
                            + " is not a String");
                }
                if (!first) out.append(',');
                first = false;
                newline(depth + 1);
                string(key);
                out.append(pretty ? ": " : ":");
                value(e.getValue(), depth + 1, path + "." + key);
            }
            newline(depth);
            out.append('}');
        }

        void array(List<?> l, int depth, String path) {
            if (l.isEmpty()) {
                out.append("[]");
                return;
            }
            boolean inline = l.stream().noneMatch(x -> x instanceof Map || x instanceof Collection
                    || (x != null && x.getClass().isArray()));
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) out.append(pretty && inline ? ", " : ",");
                if (!inline) newline(depth + 1);
                value(l.get(i), depth + 1, path + "[" + i + "]");
            }
            if (!inline) newline(depth);
            out.append(']');
        }

        void newline(int depth) {
            if (!pretty) return;
            out.append('\n');
            out.repeat("  ", depth);
        }

        void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }

    // ---------------------------------------------------------------- reader

    private static final class Reader {
        final String text;
        int pos;

        Reader(String text) {
            this.text = text;
        }

        IllegalArgumentException error(String what) {
            String near = pos < text.length() ? " near '" + snippet() + "'" : " (end of input)";
            return new IllegalArgumentException("JSON: " + what + " at offset " + pos + near);
        }

        private String snippet() {
            String s = text.substring(pos, Math.min(text.length(), pos + 16));
            return s.replace("\n", "\\n");
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
                else break;
            }
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
            if (pos >= text.length()) throw error("expected a value");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("expected a value");
                }
            };
        }

        Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error("expected '" + word + "'");
            pos += word.length();
            return value;
        }

        Map<String, Object> object(int depth) {
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < text.length() && text.charAt(pos) == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (pos >= text.length() || text.charAt(pos) != '"') throw error("expected a string key");
                int keyAt = pos;
                String key = string();
                skipWhitespace();
                if (pos >= text.length() || text.charAt(pos) != ':') throw error("expected ':'");
                pos++;
                skipWhitespace();
                Object v = value(depth + 1);
                if (map.containsKey(key)) {
                    pos = keyAt;
                    throw error("duplicate key \"" + key + "\"");
                }
                map.put(key, v);
                skipWhitespace();
                if (pos < text.length() && text.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                if (pos < text.length() && text.charAt(pos) == '}') {
                    pos++;
                    return map;
                }
                throw error("expected ',' or '}'");
            }
        }

        List<Object> array(int depth) {
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (pos < text.length() && text.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                if (pos < text.length() && text.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                if (pos < text.length() && text.charAt(pos) == ']') {
                    pos++;
                    return list;
                }
                throw error("expected ',' or ']'");
            }
        }

        String string() {
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) throw error("unterminated string");
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return sb.toString();
                }
                if (c < 0x20) throw error("raw control character U+" + String.format("%04X", (int) c) + " in string");
                if (c == '\\') {
                    if (pos + 1 >= text.length()) throw error("unterminated escape");
                    char e = text.charAt(pos + 1);
                    switch (e) {
                        case '"' -> sb.append('"');
                        case '\\' -> sb.append('\\');
                        case '/' -> sb.append('/');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            char u = hex4(pos + 2);
                            if (Character.isHighSurrogate(u)) {
                                if (!text.startsWith("\\u", pos + 6)) {
                                    throw error("high surrogate \\u" + String.format("%04x", (int) u) + " without a low surrogate");
                                }
                                char low = hex4(pos + 8);
                                if (!Character.isLowSurrogate(low)) throw error("invalid low surrogate");
                                sb.append(u).append(low);
                                pos += 6;
                            } else if (Character.isLowSurrogate(u)) {
                                throw error("lone low surrogate");
                            } else {
                                sb.append(u);
                            }
                            pos += 4;
                        }
                        default -> throw error("invalid escape '\\" + e + "'");
                    }
                    pos += 2;
                    continue;
                }
                if (Character.isSurrogate(c)) {
                    if (Character.isHighSurrogate(c) && pos + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(pos + 1))) {
                        sb.append(c).append(text.charAt(pos + 1));
                        pos += 2;
                        continue;
                    }
                    throw error("lone surrogate in string");
                }
                sb.append(c);
                pos++;
            }
        }

        private char hex4(int at) {
            if (at + 4 > text.length()) {
                pos = Math.min(at, text.length());
                throw error("expected 4 hex digits");
            }
            int v = 0;
            for (int i = at; i < at + 4; i++) {
                int d = Character.digit(text.charAt(i), 16);
                if (d < 0) {
                    pos = i;
                    throw error("expected a hex digit");
                }
                v = v * 16 + d;
            }
            return (char) v;
        }

        Object number() {
            int start = pos;
            if (text.charAt(pos) == '-') pos++;
            if (pos >= text.length()) throw error("expected a digit");
            char c = text.charAt(pos);
            if (c == '0') {
                pos++;
                if (pos < text.length() && isDigit(text.charAt(pos))) throw error("leading zero in number");
            } else if (isDigit(c)) {
                while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
            } else {
                throw error("expected a digit");
            }
            boolean integral = true;
            if (pos < text.length() && text.charAt(pos) == '.') {
                integral = false;
                pos++;
                digits();
            }
            if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
                digits();
            }
            String literal = text.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooBig) {
                    return Double.parseDouble(literal);
                }
            }
            double d = Double.parseDouble(literal);
            if (!Double.isFinite(d)) {
                pos = start;
                throw error("number " + literal + " out of double range");
            }
            return d;
        }

        private void digits() {
            if (pos >= text.length() || !isDigit(text.charAt(pos))) throw error("expected a digit");
            while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }
}
