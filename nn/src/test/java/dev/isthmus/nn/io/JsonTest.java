package dev.isthmus.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void prettyPrintsWithTwoSpacesAndKeepsKeyOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zeta", 1L);
        m.put("alpha", List.of(1.5, 2L));
        m.put("nested", Map.of("ok", true));
        m.put("empty", List.of());
        m.put("nothing", null);
        String expected = """
                {
                  "zeta": 1,
                  "alpha": [1.5, 2],
                  "nested": {
                    "ok": true
                  },
                  "empty": [],
                  "nothing": null
                }""";
        assertEquals(expected, Json.write(m));
        assertEquals("{\"zeta\":1,\"alpha\":[1.5,2],\"nested\":{\"ok\":true},\"empty\":[],\"nothing\":null}",
                Json.writeCompact(m));
    }

    @Test
    void arraysOfObjectsGoOnSeparateLines() {
        assertEquals("[\n  {\n    \"a\": 1\n  },\n  [1, 2]\n]", Json.write(List.of(Map.of("a", 1), new long[] {1, 2})));
    }

    @Test
    void escapesLikeSerdeJson() {
        String s = "q\"b\\n\nt\tc\u0001é/€";
        assertEquals("\"q\\\"b\\\\n\\nt\\tc\\u0001é/€\"", Json.writeCompact(s));
        assertEquals(s, Json.read(Json.writeCompact(s)));
    }

    @Test
    void roundTripKeepsTypesAndOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", 12L);
        m.put("loss", 0.0312);
        m.put("tiny", 1.0e-12);
        m.put("whole", 3.0);
        m.put("big", Long.MIN_VALUE);
        m.put("flags", Arrays.asList(true, false, null));
        m.put("name", "LeNet-5 \uD83D\uDE00");
        Object back = Json.read(Json.write(m));
        assertEquals(m, back);
        assertEquals(List.copyOf(m.keySet()), List.copyOf(((Map<?, ?>) back).keySet()));
        assertEquals(Double.class, ((Map<?, ?>) back).get("whole").getClass());
    }

    @Test
    void rejectsNanAndInfinityWithAClearMessage() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of("loss", Double.NaN)));
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("$.loss"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Float.POSITIVE_INFINITY)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new double[] {Double.NEGATIVE_INFINITY}));
    }

    @Test
    void errorsNameTheOffset() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.read("{\"a\": 1 \"b\": 2}"));
        assertTrue(e.getMessage().startsWith("JSON: expected ',' or '}' at offset 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.read("[1, 2"));
        assertTrue(e.getMessage().contains("expected ',' or ']' at offset 5"), e.getMessage());
    }

    @Test
    void isStrict() {
        for (String bad : List.of("", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "[1] x",
                "\"\\x\"", "\"a\nb\"", "{'a':1}", "{a:1}", "NaN", "Infinity", "// c\n1", "{\"a\":1,\"a\":2}",
                "\"\\ud800\"", "tru", "[", "{\"a\"}", "1e999")) {
            assertThrows(IllegalArgumentException.class, () -> Json.read(bad), () -> "accepted: " + bad);
        }
    }

    @Test
    void readsNumbersAsLongOrDouble() {
        assertEquals(List.of(0L, -7L, 9223372036854775807L, 1.5, -2.0e-3, 1.0E20, 1.0E19),
                Json.read(" [0, -7, 9223372036854775807, 1.5, -2e-3, 1E+20, 10000000000000000000] "));
        assertEquals("\u00e9\uD83D\uDE00/", Json.read("\"\\u00e9\\ud83d\\ude00\\/\""));
    }

    @Test
    void readObjectRequiresAnObject() {
        var e = assertThrows(IllegalArgumentException.class, () -> Json.readObject("[1]"));
        assertTrue(e.getMessage().contains("an array"), e.getMessage());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertThrows(IllegalArgumentException.class, () -> Json.read(deep));
    }
}
