// Holds the checked-in oneDNN bindings to the real headers of the natives jar, where jextract
// cannot run: a C program built with gcc prints every constant bound in dnnl_h, the size and
// field offsets of every struct class, and the kind (int, long, pointer, ...) of every parameter
// and return value of every bound function; the test compares with the Java side and checks
// that libdnnl.so.3 exports every bound function. A failure lists every difference.
package dev.isthmus.bindings.dnnl;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DnnlBindingsConformanceTest {

    static final String INCLUDE = NativeLibraries.JAR_FOLDER + "include/";

    static final String C_KIND = """
            static const char *kind_of(int cls, size_t size) {
                switch (cls) {
                case 5: return "pointer";
                case 8: return size == 4 ? "float" : size == 8 ? "double" : "unknown";
                case 1: case 2: case 3: case 4:
                    return size == 1 ? "char" : size == 2 ? "short" : size == 4 ? "int" : size == 8 ? "long" : "unknown";
                default: return "unknown";
                }
            }
            #define K(x) kind_of(__builtin_classify_type(x), sizeof(x))
            """;

    @TempDir
    static Path work;

    static Path include;
    static Map<String, String> cFacts; // "C name" -> "int 3", "F name" -> "pointer int -> int", ...

    @BeforeAll
    static void runProbe() throws Exception {
        Assumptions.assumeTrue(onPath("gcc"), "gcc is not on the PATH: the conformance test needs a C compiler");
        include = extractHeaders(work.resolve("include"));
        Path header = include.resolve("oneapi/dnnl/dnnl.h");
        String preprocessed = run("gcc", "-E", "-P", "-I", include.toString(), header.toString());

        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include \"oneapi/dnnl/dnnl.h\"\n")
                .append(C_KIND);
        List<String> functions = functions();
        List<String> statements = statements(preprocessed);
        for (String name : functions) {
            Prototype proto = prototype(statements, name);
            List<String> names = new ArrayList<>();
            List<String> decls = new ArrayList<>();
            for (int i = 0; i < proto.params().size(); i++) {
                names.add("p" + i);
                decls.add(renameParameter(proto.params().get(i), "p" + i));
            }
            c.append("static void probe_").append(name).append("(").append(decls.isEmpty() ? "void" : String.join(", ", decls)).append(") {\n")
                    .append("    printf(\"F ").append(name).append(" %d\", ").append(names.size()).append(");\n");
            for (String p : names) {
                c.append("    printf(\" %s\", K(").append(p).append("));\n");
            }
            // K's operands are never evaluated: the call only gives the return type. A void call
            // cannot be an operand, so void is read from the prototype's text.
            String call = name + "(" + String.join(", ", names) + ")";
            c.append(proto.returnsVoid() ? "    printf(\" -> void\\n\");\n" : "    printf(\" -> %s\\n\", K(" + call + "));\n");
            c.append("}\n");
        }
        c.append("int main(void) {\n");
        for (String name : functions) {
            int n = prototype(statements, name).params().size();
            c.append("    probe_").append(name).append("(").append(String.join(", ", java.util.Collections.nCopies(n, "0"))).append(");\n");
        }
        for (String name : constants().keySet()) {
            c.append("    printf(\"C ").append(name).append(" %s %lld\\n\", K(").append(name).append("), (long long)(").append(name).append("));\n");
        }
        for (var s : structs().entrySet()) {
            c.append("    printf(\"S ").append(s.getKey()).append(" %zu\\n\", sizeof(").append(s.getKey()).append("));\n");
            for (String field : fieldNames(s.getValue())) {
                c.append("    { ").append(s.getKey()).append(" v; printf(\"M ").append(s.getKey()).append('.').append(field)
                        .append(" %s %zu\\n\", K(v.").append(field).append("), offsetof(").append(s.getKey()).append(", ")
                        .append(field).append(")); }\n");
            }
        }
        c.append("    return 0;\n}\n");
        Path source = work.resolve("conformance.c");
        Files.writeString(source, c);
        Path exe = work.resolve("conformance");
        run("gcc", "-std=gnu11", "-w", "-I", include.toString(), source.toString(), "-o", exe.toString());
        cFacts = new TreeMap<>();
        for (String line : run(exe.toString()).split("\n")) {
            int space = line.indexOf(' ', 2);
            cFacts.put(line.substring(0, space), line.substring(space + 1));
        }
    }

    @Test
    void everyConstantHasTheHeadersValue() {
        List<String> differences = new ArrayList<>();
        Map<String, Object> constants = constants();
        assertTrue(constants.size() > 1900, "expected every format tag and DNNL_ARG_*, found " + constants.size() + " constants");
        for (var e : constants.entrySet()) {
            String c = cFacts.get("C " + e.getKey());
            String java = switch (e.getValue()) {
                case Integer i -> "int " + i;
                case Long l -> "long " + l;
                case MemorySegment m -> "pointer " + m.address();
                default -> "unexpected " + e.getValue().getClass();
            };
            String expected = c == null ? null : c.startsWith("int ") ? "int " + (int) Long.parseLong(c.substring(4)) : c;
            if (!java.equals(expected)) {
                differences.add(e.getKey() + ": Java " + java + ", C " + c);
            }
        }
        assertTrue(differences.isEmpty(), differences.size() + " constants differ from the headers:\n" + String.join("\n", differences));
        assertEquals(3, dnnl_h.dnnl_f32(), "dnnl_f32");
        assertEquals(12, dnnl_h.DNNL_MAX_NDIMS(), "DNNL_MAX_NDIMS");
        assertEquals(-1L, dnnl_h.DNNL_MEMORY_ALLOCATE().address(), "DNNL_MEMORY_ALLOCATE");
    }

    @Test
    void everyFunctionMatchesItsPrototypeAndIsExported() throws Exception {
        List<String> differences = new ArrayList<>();
        SymbolLookup lookup = NativeLibraries.dnnl().lookup();
        List<String> functions = functions();
        assertTrue(functions.size() >= 70, "expected the functions of the brief, found " + functions.size());
        for (String name : functions) {
            FunctionDescriptor d = (FunctionDescriptor) dnnl_h.class.getMethod(name + "$descriptor").invoke(null);
            List<String> kinds = new ArrayList<>();
            for (MemoryLayout l : d.argumentLayouts()) {
                kinds.add(kind(l));
            }
            String java = kinds.size() + (kinds.isEmpty() ? "" : " " + String.join(" ", kinds)) + " -> "
                    + d.returnLayout().map(DnnlBindingsConformanceTest::kind).orElse("void");
            String c = cFacts.get("F " + name);
            if (!java.equals(c)) {
                differences.add(name + ": Java (" + java + "), C (" + c + ")");
            }
            if (lookup.find(name).isEmpty()) {
                differences.add(name + ": not exported by " + NativeLibraries.dnnl().path());
            }
        }
        assertTrue(differences.isEmpty(), differences.size() + " functions differ (parameter count, kinds -> return):\n"
                + String.join("\n", differences));
    }

    @Test
    void everyStructHasTheHeadersLayout() {
        List<String> differences = new ArrayList<>();
        for (var s : structs().entrySet()) {
            GroupLayout layout = s.getValue();
            String size = cFacts.get("S " + s.getKey());
            if (!String.valueOf(layout.byteSize()).equals(size)) {
                differences.add(s.getKey() + ": Java size " + layout.byteSize() + ", C size " + size);
            }
            for (String field : fieldNames(layout)) {
                MemoryLayout member = layout.select(groupElement(field));
                String java = kind(member) + " " + layout.byteOffset(groupElement(field));
                String c = cFacts.get("M " + s.getKey() + "." + field);
                if (!java.equals(c)) {
                    differences.add(s.getKey() + "." + field + ": Java (" + java + "), C (" + c + ")");
                }
            }
        }
        assertEquals(dnnl_version_t.layout().byteSize(), dnnl_version_t.sizeof());
        assertTrue(differences.isEmpty(), "structs differ from the headers:\n" + String.join("\n", differences));
    }

    // ---- The Java side, by reflection over the generated classes.

    /** Function names: every dnnl_h method with a $descriptor twin. */
    static List<String> functions() {
        List<String> names = new ArrayList<>();
        for (Method m : dnnl_h.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                names.add(m.getName().substring(0, m.getName().length() - "$descriptor".length()));
            }
        }
        names.sort(null);
        return names;
    }

    /** Constants: public static no-argument int, long or MemorySegment methods that are not functions. */
    static Map<String, Object> constants() {
        List<String> functions = functions();
        Map<String, Object> values = new TreeMap<>();
        for (Method m : dnnl_h.class.getDeclaredMethods()) {
            Class<?> r = m.getReturnType();
            boolean candidate = Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())
                    && m.getParameterCount() == 0 && !m.getName().contains("$") && !functions.contains(m.getName())
                    && (r == int.class || r == long.class || r == MemorySegment.class);
            if (candidate) {
                try {
                    values.put(m.getName(), m.invoke(null));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(m.getName(), e);
                }
            }
        }
        return values;
    }

    static Map<String, GroupLayout> structs() {
        Map<String, GroupLayout> structs = new LinkedHashMap<>();
        structs.put("dnnl_version_t", dnnl_version_t.layout());
        structs.put("dnnl_exec_arg_t", dnnl_exec_arg_t.layout());
        return structs;
    }

    static List<String> fieldNames(GroupLayout layout) {
        return layout.memberLayouts().stream().filter(m -> !(m instanceof PaddingLayout))
                .map(m -> m.name().orElseThrow()).toList();
    }

    static String kind(MemoryLayout l) {
        return switch (l) {
            case AddressLayout a -> "pointer";
            case ValueLayout.OfByte b -> "char";
            case ValueLayout.OfShort s -> "short";
            case ValueLayout.OfInt i -> "int";
            case ValueLayout.OfLong j -> "long";
            case ValueLayout.OfFloat f -> "float";
            case ValueLayout.OfDouble d -> "double";
            default -> "unexpected " + l;
        };
    }

    // ---- The C side: the prototypes' parameter lists, taken from the preprocessed header.

    static List<String> statements(String text) {
        String s = text.replaceAll("\\s+", " ");
        List<String> result = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
            if (ch == ';' && depth == 0) {
                result.add(s.substring(start, i).strip());
                start = i + 1;
            }
        }
        return result;
    }

    /** A prototype as written: its return type and its parameter declarations. */
    record Prototype(String returns, List<String> params) {
        boolean returnsVoid() {
            return returns.replace("extern", "").replace("const", "").strip().equals("void");
        }
    }

    static Prototype prototype(List<String> statements, String name) {
        Pattern p = Pattern.compile("^(?!typedef)([^()]*)\\b" + Pattern.quote(name) + " ?\\((.*)\\)(?: __attribute__.*)?$");
        for (String st : statements) {
            Matcher m = p.matcher(st);
            if (m.matches()) {
                String list = m.group(2).strip();
                List<String> params = list.equals("void") || list.isEmpty() ? List.of() : List.of(list.split(","));
                return new Prototype(m.group(1), params);
            }
        }
        throw new AssertionError("no prototype for " + name + " in oneapi/dnnl/dnnl.h");
    }

    /** "const dnnl_dims_t dims" -> "const dnnl_dims_t p0": every oneDNN parameter is named. */
    static String renameParameter(String declaration, String newName) {
        Matcher m = Pattern.compile("^(.*?)\\b[A-Za-z_]\\w*(\\s*\\[[^]]*])?\\s*$").matcher(declaration.strip());
        if (!m.matches() || m.group(1).isBlank()) {
            throw new AssertionError("cannot read the parameter name in '" + declaration + "'");
        }
        return m.group(1) + newName + (m.group(2) == null ? "" : m.group(2));
    }

    // ---- Files and processes.

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    static Path extractHeaders(Path to) throws IOException {
        URL url = DnnlBindingsConformanceTest.class.getClassLoader().getResource(INCLUDE + "oneapi/dnnl/dnnl.h");
        assertTrue(url != null && url.getProtocol().equals("jar"), "the natives jar's headers are not on the class path: " + url);
        JarURLConnection connection = (JarURLConnection) url.openConnection();
        connection.setUseCaches(false);
        try (JarFile jar = connection.getJarFile()) {
            for (JarEntry e : jar.stream().toList()) {
                if (!e.isDirectory() && e.getName().startsWith(INCLUDE)) {
                    Path file = to.resolve(e.getName().substring(INCLUDE.length()));
                    Files.createDirectories(file.getParent());
                    try (InputStream in = jar.getInputStream(e)) {
                        Files.copy(in, file);
                    }
                }
            }
        }
        return to;
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = p.waitFor();
        assertEquals(0, status, () -> String.join(" ", command) + " failed:\n" + output);
        return output;
    }
}
