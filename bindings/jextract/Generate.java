// Writes the FFM bindings in jextract's layout where jextract itself is not installed.
//
// Run from the repository root:
//   java bindings/jextract/Generate.java [--only dnnl,omp,opencl,cuda,mpi] [path/to/dnnl-...-linux-x86_64.jar]
// It reads the same include lists as jextract.sh (includes-<target>.txt), parses the prototypes
// of the included functions from `gcc -E` (with the same -D and -I flags jextract gets), and asks
// gcc for every fact a parse could get wrong: a generated C program prints the kind and size of
// every parameter and return type (__builtin_classify_type, sizeof), the value of every
// constant, and the size and field offsets of every struct. Then it writes the header classes
// (dnnl_h, omp_h, cl_h, cuda_h) and the struct classes as jextract 22 would, except that the
// symbols come from dev.isthmus.bindings.NativeLibraries. JDK only; needs gcc.
//
// Headers: oneDNN's from the natives jar; GCC's omp.h; OpenCL's from $OPENCL_INCLUDE (default
// /usr/include, Debian's opencl-c-headers); cuda.h from $CUDA_HOME/include (default
// /usr/local/cuda); Open MPI's mpi.h from $MPI_INCLUDE (default
// /usr/lib/x86_64-linux-gnu/openmpi/include, Debian's libopenmpi-dev). A selected target whose header is missing is an error, never skipped.
//
// Versioned names (cuda.h: #define cuMemAlloc cuMemAlloc_v2): a list names the symbol the
// header declares after preprocessing, as jextract needs; a listed name that the header
// #defines to another one is an error naming the one to list, and so is a NAME_vN whose API
// name NAME the header now maps to another version. The API name goes into the Javadoc.
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

public class Generate {

    /** One jextract run: a header, its include list, where the classes go, how symbols are found. */
    record Target(String name, String header, List<String> cflags, String includes, String pkg, String headerClass,
            String lookup) {}

    /** A parameter: its type, its name, and its C declaration (they differ for function pointers). */
    record Param(String type, String name, String declaration) {
        Param(String type, String name) {
            this(type, name, type + (type.endsWith("*") ? "" : " ") + name);
        }
    }

    /** A bound function; apiName is the name the header #defines to it (cuMemAlloc), else null. */
    record Function(String name, String returnType, List<Param> params, String prototype, String apiName) {}

    record Field(String type, String name) {}

    record Struct(String name, List<Field> fields, String declaration) {}

    /** A C type as the ABI sees it: void, char, short, int, long, float, double, pointer. */
    record Carrier(String c, String java, String layout) {}

    static final Map<String, Carrier> CARRIERS = Map.of(
            "void", new Carrier("void", "void", null),
            "char", new Carrier("char", "byte", "C_CHAR"),
            "short", new Carrier("short", "short", "C_SHORT"),
            "int", new Carrier("int", "int", "C_INT"),
            "long", new Carrier("long", "long", "C_LONG"),
            "float", new Carrier("float", "float", "C_FLOAT"),
            "double", new Carrier("double", "double", "C_DOUBLE"),
            "pointer", new Carrier("pointer", "MemorySegment", "C_POINTER"));

    static final String C_KIND = """
            static const char *isthmus_kind_of(int cls, size_t size) {
                switch (cls) {
                case 5: return "pointer";
                case 8: return size == 4 ? "float" : size == 8 ? "double" : "unknown";
                case 1: case 2: case 3: case 4:
                    return size == 1 ? "char" : size == 2 ? "short" : size == 4 ? "int" : size == 8 ? "long" : "unknown";
                default: return "unknown";
                }
            }
            #define K(x) isthmus_kind_of(__builtin_classify_type(x), sizeof(x))
            """;

    /** Lazily loading lookup: the header class (its constants) loads without the library. */
    static String lazyLookup(String loader) {
        return "name -> dev.isthmus.bindings.NativeLibraries." + loader + "().lookup().find(name)";
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        Path jextractDir = root.resolve("bindings/jextract");
        if (!Files.isDirectory(jextractDir)) {
            throw new IllegalStateException("run from the repository root (no bindings/jextract in " + root + ")");
        }
        List<String> all = List.of("dnnl", "omp", "opencl", "cuda", "mpi");
        List<String> only = all;
        Path jar = Path.of(System.getProperty("user.home"),
                ".m2/repository/org/bytedeco/dnnl/3.13-1.5.14/dnnl-3.13-1.5.14-linux-x86_64.jar");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--only") && i + 1 < args.length) {
                only = List.of(args[++i].split(","));
                for (String o : only) {
                    if (!all.contains(o)) {
                        throw new IllegalArgumentException("--only " + o + ": the targets are " + all);
                    }
                }
            } else {
                jar = Path.of(args[i]);
            }
        }
        Path work = Files.createTempDirectory("isthmus-generate-");
        try {
            Path out = root.resolve("bindings/src/main/java");
            if (only.contains("dnnl") || only.contains("omp")) {
                Path include = extractHeaders(jar, work.resolve("include"));
                String ompHeader = run(work, "gcc", "-print-file-name=include/omp.h").strip();
                if (only.contains("dnnl")) {
                    generate(new Target("dnnl", include.resolve("oneapi/dnnl/dnnl.h").toString(), List.of("-I", include.toString()),
                            "includes-dnnl.txt", "dev.isthmus.bindings.dnnl", "dnnl_h",
                            "dev.isthmus.bindings.NativeLibraries.dnnl().lookup()"), jextractDir, work, out);
                }
                if (only.contains("omp")) {
                    generate(new Target("omp", ompHeader, List.of("-I", include.toString()), "includes-omp.txt",
                            "dev.isthmus.bindings.omp", "omp_h", "dev.isthmus.bindings.NativeLibraries.gomp().lookup()"),
                            jextractDir, work, out);
                }
            }
            if (only.contains("opencl")) {
                Path include = Path.of(System.getenv().getOrDefault("OPENCL_INCLUDE", "/usr/include"));
                generate(new Target("opencl", requireHeader(include.resolve("CL/cl.h"),
                        "apt-get install opencl-c-headers, or set OPENCL_INCLUDE"),
                        List.of("-I", include.toString(), "-DCL_TARGET_OPENCL_VERSION=300", "-DCL_USE_DEPRECATED_OPENCL_1_2_APIS"),
                        "includes-opencl.txt", "dev.isthmus.bindings.opencl", "cl_h", lazyLookup("openCl")), jextractDir, work, out);
            }
            if (only.contains("cuda")) {
                Path include = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "include");
                generate(new Target("cuda", requireHeader(include.resolve("cuda.h"),
                        "install the CUDA toolkit, or set CUDA_HOME"), List.of("-I", include.toString()),
                        "includes-cuda.txt", "dev.isthmus.bindings.cuda", "cuda_h", lazyLookup("cuda")), jextractDir, work, out);
            }
            if (only.contains("mpi")) {
                Path include = Path.of(System.getenv().getOrDefault("MPI_INCLUDE", "/usr/lib/x86_64-linux-gnu/openmpi/include"));
                generate(new Target("mpi", requireHeader(include.resolve("mpi.h"),
                        "apt-get install libopenmpi-dev, or set MPI_INCLUDE"), List.of("-I", include.toString()),
                        "includes-mpi.txt", "dev.isthmus.bindings.mpi", "mpi_h", lazyLookup("mpi")), jextractDir, work, out);
            }
        } finally {
            try (var paths = Files.walk(work)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    static String requireHeader(Path header, String hint) {
        if (!Files.isRegularFile(header)) {
            throw new IllegalStateException(header + " not found: " + hint + " (or leave the target out with --only)");
        }
        return header.toString();
    }

    static Path extractHeaders(Path jar, Path to) throws IOException {
        String prefix = "org/bytedeco/dnnl/linux-x86_64/include/";
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : zip.stream().toList()) {
                if (e.isDirectory() || !e.getName().startsWith(prefix)) {
                    continue;
                }
                Path file = to.resolve(e.getName().substring(prefix.length()));
                Files.createDirectories(file.getParent());
                try (InputStream in = zip.getInputStream(e)) {
                    Files.copy(in, file);
                }
            }
        }
        return to;
    }

    static void generate(Target t, Path jextractDir, Path work, Path out) throws Exception {
        List<String> functions = new ArrayList<>();
        List<String> constants = new ArrayList<>();
        List<String> typedefs = new ArrayList<>();
        for (String line : Files.readAllLines(jextractDir.resolve(t.includes()))) {
            String l = line.replaceAll("#.*", "").strip();
            if (l.isEmpty()) {
                continue;
            }
            String[] parts = l.split("\\s+");
            switch (parts[0]) {
                case "--include-function" -> functions.add(parts[1]);
                case "--include-constant" -> constants.add(parts[1]);
                case "--include-typedef", "--include-struct" -> typedefs.add(parts[1]);
                default -> throw new IllegalArgumentException(t.includes() + ": unknown option " + parts[0]);
            }
        }
        for (List<String> names : List.of(functions, constants, typedefs)) {
            if (new java.util.HashSet<>(names).size() != names.size()) {
                throw new IllegalArgumentException(t.includes() + " lists a name twice: " + names);
            }
        }
        Map<String, String> apiNames = apiNames(t, functions, work);
        String preprocessed = run(work, gcc(t, "-E", "-P", t.header()));
        List<String> statements = statements(preprocessed);
        List<Function> fns = new ArrayList<>();
        for (String name : functions) {
            Function f = parseFunction(statements, name);
            fns.add(new Function(f.name(), f.returnType(), f.params(), f.prototype(), apiNames.get(name)));
        }
        List<Struct> structs = new ArrayList<>();
        for (String name : typedefs) {
            structs.add(parseStruct(statements, name));
        }

        // Ask gcc for every type, value, size and offset.
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include \""
                + t.header() + "\"\n" + C_KIND);
        for (Function f : fns) {
            c.append("static void probe_").append(f.name()).append("(").append(cParams(f)).append(") {\n");
            c.append("    printf(\"F ").append(f.name()).append("\");\n");
            for (Param p : f.params()) {
                c.append("    printf(\" %s\", K(").append(p.name()).append("));\n");
            }
            String call = f.name() + "(" + String.join(", ", f.params().stream().map(Param::name).toList()) + ")";
            c.append(isVoid(f.returnType()) ? "    printf(\" -> void\\n\");\n" : "    printf(\" -> %s\\n\", K(" + call + "));\n");
            c.append("}\n");
        }
        c.append("int main(void) {\n");
        for (Function f : fns) {
            c.append("    probe_").append(f.name()).append("(").append(String.join(", ",
                    f.params().stream().map(p -> "0").toList())).append(");\n");
        }
        for (String k : constants) {
            c.append("    printf(\"C ").append(k).append(" %s %lld\\n\", K(").append(k).append("), (long long)(")
                    .append(k).append("));\n");
        }
        for (Struct s : structs) {
            c.append("    printf(\"S ").append(s.name()).append(" %zu\\n\", sizeof(").append(s.name()).append("));\n");
            for (Field fl : s.fields()) {
                c.append("    { ").append(s.name()).append(" v; printf(\"M ").append(s.name()).append(" ").append(fl.name())
                        .append(" %s %zu\\n\", K(v.").append(fl.name()).append("), offsetof(").append(s.name())
                        .append(", ").append(fl.name()).append(")); }\n");
            }
        }
        c.append("    return 0;\n}\n");
        Path source = work.resolve(t.headerClass() + "_probe.c");
        Files.writeString(source, c);
        Path exe = work.resolve(t.headerClass() + "_probe");
        run(work, gcc(t, "-std=gnu11", "-w", source.toString(), "-o", exe.toString()));
        Map<String, List<String>> fnKinds = new HashMap<>();
        Map<String, String[]> constantValues = new LinkedHashMap<>();
        Map<String, Long> structSizes = new HashMap<>();
        Map<String, Map<String, String[]>> members = new HashMap<>();
        for (String line : run(work, exe.toString()).split("\n")) {
            String[] w = line.split(" ");
            switch (w[0]) {
                case "F" -> {
                    List<String> kinds = new ArrayList<>();
                    for (int i = 2; i < w.length; i++) {
                        if (!w[i].equals("->")) {
                            kinds.add(w[i]);
                        }
                    }
                    fnKinds.put(w[1], kinds); // parameters..., return last
                }
                case "C" -> constantValues.put(w[1], new String[] {w[2], w[3]});
                case "S" -> structSizes.put(w[1], Long.parseLong(w[2]));
                case "M" -> members.computeIfAbsent(w[1], x -> new LinkedHashMap<>()).put(w[2], new String[] {w[3], w[4]});
                default -> throw new IllegalStateException("probe printed: " + line);
            }
        }
        Path dir = out.resolve(t.pkg().replace('.', '/'));
        Files.createDirectories(dir);
        Map<String, String> macros = macros(Path.of(t.header()));
        Files.writeString(dir.resolve(t.headerClass() + ".java"), headerClass(t, fns, fnKinds, constants, constantValues, macros));
        for (Struct s : structs) {
            Files.writeString(dir.resolve(s.name() + ".java"), structClass(t, s, structSizes.get(s.name()), members.get(s.name())));
        }
        System.out.println("wrote " + dir.resolve(t.headerClass() + ".java") + ": " + fns.size() + " functions, "
                + constants.size() + " constants, " + structs.size() + " structs");
    }

    /** gcc with the target's flags (-I, -D) before the given arguments. */
    static String[] gcc(Target t, String... args) {
        List<String> command = new ArrayList<>(List.of("gcc"));
        command.addAll(t.cflags());
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /**
     * What the preprocessor makes of each listed function name and, for NAME_vN, of NAME: a
     * listed name must be what the header declares (not a macro for another name), and a NAME
     * the header #defines must map to the listed version. Returns listed name -> API name for
     * the versioned ones (cuMemAlloc_v2 -> cuMemAlloc).
     */
    static Map<String, String> apiNames(Target t, List<String> functions, Path work) throws Exception {
        Pattern versioned = Pattern.compile("^(\\w+?)_v\\d+$");
        StringBuilder c = new StringBuilder("#include \"" + t.header() + "\"\n");
        for (String f : functions) {
            c.append("isthmus_name \"").append(f).append("\" = ").append(f).append("\n");
            Matcher m = versioned.matcher(f);
            if (m.matches()) {
                c.append("isthmus_name \"").append(m.group(1)).append("\" = ").append(m.group(1)).append("\n");
            }
        }
        Path source = work.resolve(t.headerClass() + "_names.c");
        Files.writeString(source, c);
        Map<String, String> expansion = new HashMap<>();
        Pattern line = Pattern.compile("^isthmus_name \"(\\w+)\" = (.*)$");
        for (String l : run(work, gcc(t, "-E", "-P", source.toString())).split("\n")) {
            Matcher m = line.matcher(l.strip());
            if (m.matches()) {
                expansion.put(m.group(1), m.group(2).strip());
            }
        }
        Map<String, String> result = new HashMap<>();
        for (String f : functions) {
            String e = expansion.get(f);
            if (!f.equals(e)) {
                throw new IllegalStateException(t.includes() + " lists " + f + ", but " + t.header() + " #defines it to " + e
                        + ": list --include-function " + e + " (jextract binds the name declared after preprocessing)");
            }
            Matcher m = versioned.matcher(f);
            if (m.matches()) {
                String api = m.group(1);
                String e2 = expansion.get(api);
                if (e2.equals(f)) {
                    result.put(f, api);
                } else if (!e2.equals(api)) {
                    throw new IllegalStateException(t.includes() + " lists " + f + ", but " + t.header() + " now #defines " + api
                            + " to " + e2 + ": bind the version the header uses");
                }
            }
        }
        return result;
    }

    // ---- C parsing: only what the probe cannot tell, the names and the shape of declarations.

    /** Top-level statements of preprocessed C, whitespace collapsed, attributes removed. */
    static List<String> statements(String text) {
        String s = stripAttributes(text).replaceAll("\\s+", " ");
        List<String> result = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '{') {
                depth++;
            } else if (ch == '}') {
                depth--;
            } else if (ch == ';' && depth == 0) {
                result.add(s.substring(start, i).strip());
                start = i + 1;
            }
        }
        return result;
    }

    static String stripAttributes(String s) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (true) {
            int at = s.indexOf("__attribute__", i);
            if (at < 0) {
                b.append(s, i, s.length());
                return b.toString();
            }
            b.append(s, i, at);
            int j = s.indexOf('(', at);
            int depth = 0;
            do {
                char ch = s.charAt(j++);
                depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
            } while (depth > 0);
            i = j;
        }
    }

    static Function parseFunction(List<String> statements, String name) {
        Pattern p = Pattern.compile("^(?:extern )?(.*?)\\b" + Pattern.quote(name) + " ?\\((.*)\\)$");
        for (String st : statements) {
            Matcher m = p.matcher(st);
            if (m.matches() && !st.startsWith("typedef")) {
                String ret = m.group(1).strip();
                List<Param> params = new ArrayList<>();
                String list = m.group(2).strip();
                if (!list.equals("void") && !list.isEmpty()) {
                    int i = 0;
                    for (String raw : splitTopLevel(list)) {
                        params.add(parseParam(raw.strip(), i++));
                    }
                }
                String proto = ret + (ret.endsWith("*") ? "" : " ") + name + "(" + String.join(", ",
                        params.stream().map(Param::declaration).toList()) + ")";
                return new Function(name, ret, params, proto, null);
            }
        }
        throw new IllegalStateException("no prototype for " + name);
    }

    static final java.util.Set<String> TYPE_WORDS = java.util.Set.of("int", "char", "short", "long", "unsigned", "signed",
            "float", "double", "void", "const", "volatile", "struct", "enum");

    /** A function pointer declarator: "void ( * pfn_notify)(...)", the name optional. */
    static final Pattern FUNCTION_POINTER = Pattern.compile("^(.*?\\(\\s*\\*\\s*)([A-Za-z_]\\w*)?(\\s*\\)\\s*\\(.*\\))$");

    /** A parameter's type and name; unnamed parameters get jextract's names x0, x1, ... */
    static Param parseParam(String raw, int index) {
        Matcher fp = FUNCTION_POINTER.matcher(raw);
        if (fp.matches()) {
            String name = fp.group(2) != null ? fp.group(2) : "x" + index;
            return new Param(fp.group(1).strip() + fp.group(3).strip(), name, fp.group(1) + name + fp.group(3));
        }
        Matcher m = Pattern.compile("^(.*?[\\s*])([A-Za-z_]\\w*)(\\s*\\[[^]]*])?$").matcher(raw);
        if (m.matches() && !m.group(1).isBlank() && !TYPE_WORDS.contains(m.group(2))) {
            String type = m.group(1).strip() + (m.group(3) == null ? "" : " *");
            return new Param(type, m.group(2));
        }
        return new Param(raw, "x" + index);
    }

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

    static Struct parseStruct(List<String> statements, String name) {
        Pattern p = Pattern.compile("^typedef struct \\w* ?\\{(.*)\\} ?" + Pattern.quote(name) + "$");
        for (String st : statements) {
            Matcher m = p.matcher(st);
            if (m.matches()) {
                List<Field> fields = new ArrayList<>();
                for (String decl : m.group(1).split(";")) {
                    if (!decl.isBlank()) {
                        Param f = parseParam(decl.strip(), 0);
                        fields.add(new Field(f.type(), f.name()));
                    }
                }
                return new Struct(name, fields, st);
            }
        }
        throw new IllegalStateException("no struct typedef " + name);
    }

    static boolean isVoid(String type) {
        return type.replace("const", "").strip().equals("void");
    }

    static String cParams(Function f) {
        if (f.params().isEmpty()) {
            return "void";
        }
        return String.join(", ", f.params().stream().map(Param::declaration).toList());
    }

    // ---- Java output, in jextract 22's layout.

    static Carrier carrier(String kind, String what) {
        Carrier c = CARRIERS.get(kind);
        if (c == null) {
            throw new IllegalStateException(what + ": gcc says its type is " + kind + ", which has no FFM carrier");
        }
        return c;
    }

    static final String IMPORTS = """
            import java.lang.invoke.*;
            import java.lang.foreign.*;
            import java.nio.ByteOrder;
            import java.util.*;
            import java.util.function.*;
            import java.util.stream.*;

            import static java.lang.foreign.ValueLayout.*;
            import static java.lang.foreign.MemoryLayout.PathElement.*;
            """;

    static String headerClass(Target t, List<Function> fns, Map<String, List<String>> kinds, List<String> constants,
            Map<String, String[]> values, Map<String, String> macros) {
        String h = t.headerClass();
        StringBuilder b = new StringBuilder();
        b.append("// Generated by bindings/jextract/Generate.java in jextract's layout (see bindings/jextract/README.md);\n")
                .append("// do not edit: change ").append(t.includes()).append(" and regenerate.\n\n");
        b.append("package ").append(t.pkg()).append(";\n\n").append(IMPORTS)
                .append("\n");
        b.append("public class ").append(h).append(" {\n\n");
        b.append("    ").append(h).append("() {\n        // Should not be called directly\n    }\n\n");
        b.append("""
                    static final Arena LIBRARY_ARENA = Arena.ofAuto();
                    static final boolean TRACE_DOWNCALLS = Boolean.getBoolean("jextract.trace.downcalls");

                    static void traceDowncall(String name, Object... args) {
                         String traceArgs = Arrays.stream(args)
                                       .map(Object::toString)
                                       .collect(Collectors.joining(", "));
                         System.out.printf("%s(%s)\\n", name, traceArgs);
                    }

                    static MemorySegment findOrThrow(String symbol) {
                        return SYMBOL_LOOKUP.find(symbol)
                            .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
                    }

                    static MethodHandle upcallHandle(Class<?> fi, String name, FunctionDescriptor fdesc) {
                        try {
                            return MethodHandles.lookup().findVirtual(fi, name, fdesc.toMethodType());
                        } catch (ReflectiveOperationException ex) {
                            throw new AssertionError(ex);
                        }
                    }

                    static MemoryLayout align(MemoryLayout layout, long align) {
                        return switch (layout) {
                            case PaddingLayout p -> p;
                            case ValueLayout v -> v.withByteAlignment(align);
                            case GroupLayout g -> {
                                MemoryLayout[] alignedMembers = g.memberLayouts().stream()
                                        .map(m -> align(m, align)).toArray(MemoryLayout[]::new);
                                yield g instanceof StructLayout ?
                                        MemoryLayout.structLayout(alignedMembers) : MemoryLayout.unionLayout(alignedMembers);
                            }
                            case SequenceLayout s -> MemoryLayout.sequenceLayout(s.elementCount(), align(s.elementLayout(), align));
                        };
                    }

                """);
        b.append("    static final SymbolLookup SYMBOL_LOOKUP = ").append(t.lookup()).append(";\n\n");
        b.append("""
                    public static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;
                    public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
                    public static final ValueLayout.OfShort C_SHORT = ValueLayout.JAVA_SHORT;
                    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
                    public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
                    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
                    public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
                    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
                            .withTargetLayout(MemoryLayout.sequenceLayout(java.lang.Long.MAX_VALUE, JAVA_BYTE));
                    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
                """);
        for (Function f : fns) {
            List<String> k = kinds.get(f.name());
            Carrier ret = isVoid(f.returnType()) ? CARRIERS.get("void") : carrier(k.getLast(), f.name() + " returns");
            List<Carrier> ps = new ArrayList<>();
            for (int i = 0; i < f.params().size(); i++) {
                ps.add(carrier(k.get(i), f.name() + " parameter " + f.params().get(i).name()));
            }
            String n = f.name();
            String snippet = "     * {@snippet lang=c :\n     * " + f.prototype() + "\n     * }\n"
                    + (f.apiName() == null ? "" : "     * The header's {@code " + f.apiName() + "}: {@code #define " + f.apiName()
                            + " " + n + "}\n");
            b.append("\n    private static class ").append(n).append(" {\n");
            b.append("        public static final FunctionDescriptor DESC = FunctionDescriptor.");
            List<String> layouts = new ArrayList<>();
            if (ret.layout() != null) {
                layouts.add(h + "." + ret.layout());
            }
            ps.forEach(p -> layouts.add(h + "." + p.layout()));
            b.append(ret.layout() == null ? "ofVoid(" : "of(");
            if (!layouts.isEmpty()) {
                b.append("\n            ").append(String.join(",\n            ", layouts)).append("\n        ");
            }
            b.append(");\n\n");
            b.append("        public static final MemorySegment ADDR = ").append(h).append(".findOrThrow(\"").append(n).append("\");\n\n");
            b.append("        public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);\n    }\n\n");
            b.append("    /**\n     * Function descriptor for:\n").append(snippet).append("     */\n");
            b.append("    public static FunctionDescriptor ").append(n).append("$descriptor() {\n        return ").append(n).append(".DESC;\n    }\n\n");
            b.append("    /**\n     * Downcall method handle for:\n").append(snippet).append("     */\n");
            b.append("    public static MethodHandle ").append(n).append("$handle() {\n        return ").append(n).append(".HANDLE;\n    }\n\n");
            b.append("    /**\n     * Address for:\n").append(snippet).append("     */\n");
            b.append("    public static MemorySegment ").append(n).append("$address() {\n        return ").append(n).append(".ADDR;\n    }\n\n");
            List<String> decl = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < ps.size(); i++) {
                decl.add(ps.get(i).java() + " " + f.params().get(i).name());
                names.add(f.params().get(i).name());
            }
            String args = String.join(", ", names);
            b.append("    /**\n").append(snippet).append("     */\n");
            b.append("    public static ").append(ret.java()).append(" ").append(n).append("(").append(String.join(", ", decl)).append(") {\n");
            b.append("        var mh$ = ").append(n).append(".HANDLE;\n        try {\n");
            b.append("            if (TRACE_DOWNCALLS) {\n                traceDowncall(\"").append(n).append("\"")
                    .append(args.isEmpty() ? "" : ", " + args).append(");\n            }\n");
            b.append("            ").append(ret.layout() == null ? "" : "return (" + ret.java() + ")")
                    .append("mh$.invokeExact(").append(args).append(");\n");
            b.append("""
                            } catch (Error | RuntimeException ex) {
                               throw ex;
                            } catch (Throwable ex$) {
                               throw new AssertionError("should not reach here", ex$);
                            }
                        }
                    """);
        }
        for (String name : constants) {
            String[] v = values.get(name);
            String kind = v[0];
            long value = Long.parseLong(v[1]);
            String c = constantComment(name, macros, value);
            switch (kind) {
                case "int" -> b.append("    private static final int ").append(name).append(" = (int)").append(value).append("L;\n")
                        .append(c).append("    public static int ").append(name).append("() {\n        return ").append(name).append(";\n    }\n");
                case "long" -> b.append("    private static final long ").append(name).append(" = ").append(value).append("L;\n")
                        .append(c).append("    public static long ").append(name).append("() {\n        return ").append(name).append(";\n    }\n");
                case "pointer" -> b.append("    private static final MemorySegment ").append(name).append(" = MemorySegment.ofAddress(")
                        .append(value).append("L);\n").append(c).append("    public static MemorySegment ").append(name)
                        .append("() {\n        return ").append(name).append(";\n    }\n");
                default -> throw new IllegalStateException(name + ": gcc says its type is " + kind + ", not bound");
            }
        }
        b.append("}\n");
        return b.toString();
    }

    /**
     * The object-like macros of a header and of the headers beside it (the header first, then
     * the others by name, so the result does not depend on the file system), name to the text
     * of the #define line, block comments removed.
     */
    static Map<String, String> macros(Path header) throws IOException {
        Map<String, String> result = new HashMap<>();
        Pattern define = Pattern.compile("^#define (\\w+)( .*)?$");
        List<Path> headers = new ArrayList<>(List.of(header));
        try (var files = Files.list(header.getParent())) {
            files.filter(f -> f.toString().endsWith(".h") && !f.equals(header)).sorted().forEach(headers::add);
        }
        for (Path h : headers) {
            for (String line : Files.readAllLines(h)) {
                Matcher m = define.matcher(line.replaceAll("/\\*.*?\\*/", " ").strip().replaceAll("\\s+", " "));
                if (m.matches()) {
                    result.putIfAbsent(m.group(1), m.group(0));
                }
            }
        }
        return result;
    }

    static String constantComment(String name, Map<String, String> macros, long value) {
        String macro = macros.get(name);
        String c = macro != null ? macro : "enum <anonymous>." + name + " = " + value;
        return "    /**\n     * {@snippet lang=c :\n     * " + c + "\n     * }\n     */\n";
    }

    static String structClass(Target t, Struct s, long size, Map<String, String[]> members) {
        String h = t.headerClass();
        StringBuilder b = new StringBuilder();
        b.append("// Generated by bindings/jextract/Generate.java in jextract's layout (see bindings/jextract/README.md);\n")
                .append("// do not edit: change ").append(t.includes()).append(" and regenerate.\n\n");
        b.append("package ").append(t.pkg()).append(";\n\n").append(IMPORTS).append("\n");
        b.append("/**\n * {@snippet lang=c :\n * typedef struct {\n");
        for (Field f : s.fields()) {
            b.append(" *     ").append(f.type()).append(f.type().endsWith("*") ? "" : " ").append(f.name()).append(";\n");
        }
        b.append(" * } ").append(s.name()).append("\n * }\n */\n");
        b.append("public class ").append(s.name()).append(" {\n\n");
        b.append("    ").append(s.name()).append("() {\n        // Should not be called directly\n    }\n\n");
        b.append("    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(\n");
        List<String> elements = new ArrayList<>();
        long at = 0;
        for (Field f : s.fields()) {
            String[] m = members.get(f.name());
            Carrier c = carrier(m[0], s.name() + "." + f.name());
            long offset = Long.parseLong(m[1]);
            if (offset > at) {
                elements.add("MemoryLayout.paddingLayout(" + (offset - at) + ")");
            }
            elements.add(h + "." + c.layout() + ".withName(\"" + f.name() + "\")");
            at = offset + switch (c.c()) {
                case "char" -> 1;
                case "short" -> 2;
                case "int", "float" -> 4;
                default -> 8;
            };
        }
        if (size > at) {
            elements.add("MemoryLayout.paddingLayout(" + (size - at) + ")");
        }
        b.append("        ").append(String.join(",\n        ", elements)).append("\n    ).withName(\"").append(s.name()).append("\");\n\n");
        b.append("""
                    /**
                     * The layout of this struct
                     */
                    public static final GroupLayout layout() {
                        return $LAYOUT;
                    }
                """);
        for (Field f : s.fields()) {
            String[] m = members.get(f.name());
            Carrier c = carrier(m[0], s.name() + "." + f.name());
            String lt = switch (c.c()) {
                case "char" -> "OfByte";
                case "short" -> "OfShort";
                case "int" -> "OfInt";
                case "long" -> "OfLong";
                case "float" -> "OfFloat";
                case "double" -> "OfDouble";
                default -> "AddressLayout";
            };
            String n = f.name();
            String snippet = "     * {@snippet lang=c :\n     * " + f.type() + (f.type().endsWith("*") ? "" : " ") + n + "\n     * }\n";
            b.append("\n    private static final ").append(lt).append(" ").append(n).append("$LAYOUT = (").append(lt)
                    .append(")$LAYOUT.select(groupElement(\"").append(n).append("\"));\n\n");
            b.append("    /**\n     * Layout for field:\n").append(snippet).append("     */\n");
            b.append("    public static final ").append(lt).append(" ").append(n).append("$layout() {\n        return ")
                    .append(n).append("$LAYOUT;\n    }\n\n");
            b.append("    private static final long ").append(n).append("$OFFSET = ").append(m[1]).append(";\n\n");
            b.append("    /**\n     * Offset for field:\n").append(snippet).append("     */\n");
            b.append("    public static final long ").append(n).append("$offset() {\n        return ").append(n).append("$OFFSET;\n    }\n\n");
            b.append("    /**\n     * Getter for field:\n").append(snippet).append("     */\n");
            b.append("    public static ").append(c.java()).append(" ").append(n).append("(MemorySegment struct) {\n        return struct.get(")
                    .append(n).append("$LAYOUT, ").append(n).append("$OFFSET);\n    }\n\n");
            b.append("    /**\n     * Setter for field:\n").append(snippet).append("     */\n");
            b.append("    public static void ").append(n).append("(MemorySegment struct, ").append(c.java())
                    .append(" fieldValue) {\n        struct.set(").append(n).append("$LAYOUT, ").append(n)
                    .append("$OFFSET, fieldValue);\n    }\n");
        }
        b.append("""

                    /**
                     * Obtains a slice of {@code arrayParam} which selects the array element at {@code index}.
                     * The returned segment has address {@code arrayParam.address() + index * layout().byteSize()}
                     */
                    public static MemorySegment asSlice(MemorySegment array, long index) {
                        return array.asSlice(layout().byteSize() * index);
                    }

                    /**
                     * The size (in bytes) of this struct
                     */
                    public static long sizeof() { return layout().byteSize(); }

                    /**
                     * Allocate a segment of size {@code layout().byteSize()} using {@code allocator}
                     */
                    public static MemorySegment allocate(SegmentAllocator allocator) {
                        return allocator.allocate(layout());
                    }

                    /**
                     * Allocate an array of size {@code elementCount} using {@code allocator}.
                     * The returned segment has size {@code elementCount * layout().byteSize()}.
                     */
                    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {
                        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));
                    }

                    /**
                     * Reinterprets {@code addr} using target {@code arena} and {@code cleanupAction} (if any).
                     * The returned segment has size {@code layout().byteSize()}
                     */
                    public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {
                        return reinterpret(addr, 1, arena, cleanup);
                    }

                    /**
                     * Reinterprets {@code addr} using target {@code arena} and {@code cleanupAction} (if any).
                     * The returned segment has size {@code elementCount * layout().byteSize()}
                     */
                    public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, Consumer<MemorySegment> cleanup) {
                        return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);
                    }
                }
                """);
        return b.toString();
    }

    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
        return output;
    }
}
