// What the command line prints of text it did not write itself (file names, bytes of a malformed
// header echoed in an error): control characters are escaped so that a hostile file cannot move
// the cursor, recolour the terminal or hide text.
package dev.isthmus.examples;

/** Escapes control characters for terminal output. */
final class Terminal {
    private Terminal() {}

    /**
     * {@code text} with every control character except newline and tab written as {@code \xNN}
     * (C0, DEL) or {@code \u009B}-style (C1, which some terminals also obey); line separators
     * U+2028/2029 and bidi overrides too, since they reorder what the eye reads.
     */
    static String escape(String text) {
        if (text == null) return "null";
        StringBuilder s = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c >= 0x80 && c < 0xa0)
                    || c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
            if (control && s == null) s = new StringBuilder(text.length() + 16).append(text, 0, i);
            if (s == null) continue;
            if (!control) s.append(c);
            else if (c < 0x80) s.append(String.format("\\x%02x", (int) c));
            else s.append(String.format("\\u%04x", (int) c));
        }
        return s == null ? text : s.toString();
    }
}
