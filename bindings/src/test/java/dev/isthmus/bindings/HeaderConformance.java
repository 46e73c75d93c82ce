// Holds a checked-in header class (cl_h, cuda_h) to the real C header, where jextract cannot run:
// a C program built with gcc (with the same -D flags as the bindings) prints every constant the
// class binds, the kind (int, long, pointer, ...) of every parameter and return value of every
// bound function, and what the preprocessor makes of each function's name. The comparisons
// return every difference, so one failure lists them all. Used by the OpenCL and CUDA
// conformance tests; the oneDNN one predates it and keeps its own copy.
package dev.isthmus.bindings;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class HeaderConformance {

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
            #define NAME2(x) #x
            #define NAME(x) NAME2(x)
            """;

    static final Pattern VERSIONED = Pattern.compile("^(\\w+?)_v\\d+$");

    private final Class<?> headerClass;
    private final Map<String, String> cFacts; // "C name" -> "int 3", "F name" -> "2 pointer long -> int", "N name" -> "name_v2"

    private HeaderConformance(Class<?> headerClass, Map<String, String> cFacts) {
        this.headerClass = headerClass;
        this.cFacts = cFacts;
    }

    /**
     * Builds and runs the probe for {@code headerClass} against {@code header} (an absolute path)
     * with the compiler flags the bindings were generated with.
     */
    public static HeaderConformance probe(Class<?> headerClass, Path header, List<String> cflags, Path work)
            throws IOException, InterruptedException {
        String preprocessed = run(work, gcc(cflags, "-E", "-P", header.toString()));
        List<String> statements = statements(preprocessed);
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include \"" + header + "\"\n")
                .append(C_KIND);
        List<String> functions = functions(headerClass);
        for (String name : functions) {
            List<String> params = prototype(statements, name, header).params();
            List<String> names = new ArrayList<>();
            List<String> decls = new ArrayList<>();
            for (int i = 0; i < params.size(); i++) {
                names.add("p" + i);
                decls.add(renameParameter(params.get(i), "p" + i));
            }
            c.append("static void probe_").append(name).append("(").append(decls.isEmpty() ? "void" : String.join(", ", decls)).append(") {\n")
                    .append("    printf(\"F ").append(name).append(" %d\", ").append(names.size()).append(");\n");
            for (String p : names) {
                c.append("    printf(\" %s\", K(").append(p).append("));\n");
            }
            // K's operand is never evaluated: the call only gives the return type. A void call
            // cannot be an operand, so void is read from the prototype's text.
            String call = name + "(" + String.join(", ", names) + ")";
            c.append(prototype(statements, name, header).returnsVoid() ? "    printf(\" -> void\\n\");\n"
                    : "    printf(\" -> %s\\n\", K(" + call + "));\n");
            c.append("}\n");
        }
        c.append("int main(void) {\n");
        for (String name : functions) {
            int n = prototype(statements, name, header).params().size();
            c.append("    probe_").append(name).append("(").append(String.join(", ", Collections.nCopies(n, "0"))).append(");\n");
            c.append("    printf(\"N ").append(name).append(" %s\\n\", NAME(").append(name).append("));\n");
            Matcher m = VERSIONED.matcher(name);
            if (m.matches()) {
                c.append("    printf(\"N ").append(m.group(1)).append(" %s\\n\", NAME(").append(m.group(1)).append("));\n");
            }
        }
        for (String name : constants(headerClass).keySet()) {
            c.append("    printf(\"C ").append(name).append(" %s %lld\\n\", K(").append(name).append("), (long long)(").append(name).append("));\n");
        }
        c.append("    return 0;\n}\n");
        String stem = headerClass.getSimpleName() + "_conformance";
        Path source = work.resolve(stem + ".c");
        Files.writeString(source, c);
        Path exe = work.resolve(stem);
        run(work, gcc(cflags, "-std=gnu11", "-w", source.toString(), "-o", exe.toString()));
        Map<String, String> facts = new TreeMap<>();
        for (String line : run(work, exe.toString()).split("\n")) {
            int space = line.indexOf(' ', 2);
            facts.put(line.substring(0, space), line.substring(space + 1));
        }
        return new HeaderConformance(headerClass, facts);
    }

    /** Every bound constant against the header's value and kind (int constants as Java ints). */
    public List<String> constantDifferences() {
        List<String> differences = new ArrayList<>();
        for (var e : constants(headerClass).entrySet()) {
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
        return differences;
    }

    /**
     * Every bound function's Java method (its parameter and return types, which the method
     * handle is invoked with) against the prototype's count and kinds. Needs no library.
     */
    public List<String> signatureDifferences() {
        List<String> differences = new ArrayList<>();
        for (String name : functions(headerClass)) {
            Method m = method(headerClass, name);
            List<String> kinds = new ArrayList<>();
            for (Class<?> p : m.getParameterTypes()) {
                kinds.add(kind(p));
            }
            String java = describe(kinds, kind(m.getReturnType()));
            String c = cFacts.get("F " + name);
            if (!java.equals(c)) {
                differences.add(name + ": Java (" + java + "), C (" + c + ")");
            }
        }
        return differences;
    }

    /**
     * Every bound function's FunctionDescriptor against the prototype, and whether
     * {@code library} exports it. Touching a descriptor resolves the symbol, so this needs the
     * library loaded.
     */
    public List<String> descriptorDifferences(SymbolLookup library, String libraryName) {
        List<String> differences = new ArrayList<>();
        for (String name : functions(headerClass)) {
            if (library.find(name).isEmpty()) {
                differences.add(name + ": not exported by " + libraryName);
                continue;
            }
            FunctionDescriptor d;
            try {
                d = (FunctionDescriptor) headerClass.getMethod(name + "$descriptor").invoke(null);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(name + "$descriptor", e);
            }
            List<String> kinds = new ArrayList<>();
            for (MemoryLayout l : d.argumentLayouts()) {
                kinds.add(kind(l));
            }
            String java = describe(kinds, d.returnLayout().map(HeaderConformance::kind).orElse("void"));
            String c = cFacts.get("F " + name);
            if (!java.equals(c)) {
                differences.add(name + ": descriptor (" + java + "), C (" + c + ")");
            }
        }
        return differences;
    }

    /**
     * What the preprocessor makes of each bound name: a bound name must not be a macro for
     * another (cuda.h: cuMemAlloc -> cuMemAlloc_v2), and for a bound NAME_vN the header's NAME
     * must be NAME_vN itself or a plain function (never a macro for another version).
     * Returns the versioned mapping found, API name -> bound name, in {@code mapping}.
     */
    public List<String> nameDifferences(Map<String, String> mapping) {
        List<String> differences = new ArrayList<>();
        for (String name : functions(headerClass)) {
            String expanded = cFacts.get("N " + name);
            if (!name.equals(expanded)) {
                differences.add(name + ": the header #defines it to " + expanded + ", bind that symbol instead");
            }
            Matcher m = VERSIONED.matcher(name);
            if (m.matches()) {
                String api = m.group(1);
                String apiExpanded = cFacts.get("N " + api);
                if (name.equals(apiExpanded)) {
                    mapping.put(api, name);
                } else if (!api.equals(apiExpanded)) {
                    differences.add(name + ": the header maps " + api + " to " + apiExpanded + ", not to " + name);
                }
            }
        }
        return differences;
    }

    // ---- The Java side, by reflection over the generated class.

    /** Function names: every public method with a $descriptor twin. */
    public static List<String> functions(Class<?> headerClass) {
        List<String> names = new ArrayList<>();
        for (Method m : headerClass.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("$descriptor")) {
                names.add(m.getName().substring(0, m.getName().length() - "$descriptor".length()));
            }
        }
        names.sort(null);
        return names;
    }

    /** Constants: public static no-argument int, long or MemorySegment methods that are not functions. */
    public static Map<String, Object> constants(Class<?> headerClass) {
        Set<String> functions = Set.copyOf(functions(headerClass));
        Map<String, Object> values = new TreeMap<>();
        for (Method m : headerClass.getDeclaredMethods()) {
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

    static Method method(Class<?> headerClass, String name) {
        for (Method m : headerClass.getDeclaredMethods()) {
            if (m.getName().equals(name) && Modifier.isPublic(m.getModifiers())) {
                return m;
            }
        }
        throw new AssertionError("no method " + name + " in " + headerClass.getName());
    }

    static String describe(List<String> kinds, String returns) {
        return kinds.size() + (kinds.isEmpty() ? "" : " " + String.join(" ", kinds)) + " -> " + returns;
    }

    static String kind(Class<?> type) {
        if (type == MemorySegment.class) {
            return "pointer";
        }
        if (type == byte.class) {
            return "char";
        }
        return type.getName(); // void, short, int, long, float, double
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

    static final Pattern LEADING_ATTRIBUTE = Pattern.compile("^__attribute__ ?\\(\\((?:[^()]|\\([^()]*\\))*\\)\\) ?");

    static Prototype prototype(List<String> statements, String name, Path header) {
        Pattern p = Pattern.compile("^(?!typedef)([^()]*)\\b" + Pattern.quote(name) + " ?\\((.*)\\)(?: __attribute__.*)?$");
        for (String st : statements) {
            // A leading visibility attribute (Open MPI's OMPI_DECLSPEC) is not part of the type.
            Matcher m = p.matcher(LEADING_ATTRIBUTE.matcher(st).replaceFirst(""));
            if (m.matches()) {
                String list = m.group(2).strip();
                List<String> params = list.equals("void") || list.isEmpty() ? List.of() : splitTopLevel(list);
                return new Prototype(m.group(1), params);
            }
        }
        throw new AssertionError("no prototype for " + name + " in " + header);
    }

    /** Splits a parameter list at the commas outside parentheses (function pointer parameters). */
    static List<String> splitTopLevel(String list) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < list.length(); i++) {
            char ch = list.charAt(i);
            depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
            if (ch == ',' && depth == 0) {
                parts.add(list.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(list.substring(start));
        return parts;
    }

    static final Set<String> TYPE_WORDS = Set.of("int", "char", "short", "long", "unsigned", "signed", "float", "double",
            "void", "const", "volatile");

    /**
     * "const cl_device_id * devices" -> "const cl_device_id * p2"; a function pointer
     * "void ( * pfn_notify)(cl_program, void *)" -> "void ( * p4)(cl_program, void *)".
     */
    static String renameParameter(String declaration, String newName) {
        String d = declaration.strip();
        Matcher fp = Pattern.compile("^(.*?\\(\\s*\\*\\s*)[A-Za-z_]\\w*(\\s*\\)\\s*\\(.*\\))$").matcher(d);
        if (fp.matches()) {
            return fp.group(1) + newName + fp.group(2);
        }
        Matcher m = Pattern.compile("^(.*?)\\b([A-Za-z_]\\w*)(\\s*\\[[^]]*])?$").matcher(d);
        if (!m.matches() || m.group(1).isBlank() || TYPE_WORDS.contains(m.group(2))) {
            throw new AssertionError("cannot read the parameter name in '" + declaration + "'");
        }
        return m.group(1) + newName + (m.group(3) == null ? "" : m.group(3));
    }

    // ---- Files and processes.

    public static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    static String[] gcc(List<String> cflags, String... args) {
        List<String> command = new ArrayList<>(List.of("gcc"));
        command.addAll(cflags);
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /** Runs a command in {@code dir}; its exit status must be 0. Returns stdout and stderr together. */
    public static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = p.waitFor();
        if (status != 0) {
            throw new AssertionError(String.join(" ", command) + " failed with status " + status + ":\n" + output);
        }
        return output;
    }
}
