// A peer of `isthmus bench compare` running as a worker process: the PyTorch script
// (bench/compare/torch_worker.py) or the C program (bench/compare/dnnl_worker.c, built here with
// gcc against the headers of the oneDNN natives jar and linked to the libdnnl.so.3 Isthmus loads).
// One command a line on its stdin, one JSON line back; the worker measures its own time, so start-up
// and the pipe are not timed. Not a general process library: one request at a time, no timeouts.
package dev.isthmus.examples;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.nn.io.Json;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** One worker process and its line protocol; {@link #torch} and {@link #dnnl} start the two peers. */
final class CompareWorker implements AutoCloseable {
    /** What to install where PyTorch is missing (CI's apt list names the same packages). */
    static final String TORCH_INSTALL = "apt-get install python3-torch libopenblas0-openmp";
    static final String GCC_INSTALL = "apt-get install gcc";
    /** The Python that has Debian's python3-torch (a pyenv or venv python on PATH usually has not). */
    static final String PYTHON = "/usr/bin/python3";

    private final String name;
    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;
    private final Path log;

    private CompareWorker(String name, List<String> command, Path dir, int threads) throws IOException {
        this.name = name;
        this.log = Files.createTempFile("isthmus-" + name + "-worker-", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectError(log.toFile());
        // The same thread count everywhere: OpenMP (oneDNN, libgomp), OpenBLAS, MKL if present.
        for (String v : List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")) {
            pb.environment().put(v, Integer.toString(threads));
        }
        // The same OpenMP spin policy as Isthmus's own (NativeLibraries sets it in this JVM): an idle
        // peer's threads spinning 300,000 times after its turn would steal the cores of the next one.
        if (System.getenv("GOMP_SPINCOUNT") == null && System.getenv("OMP_WAIT_POLICY") == null) {
            pb.environment().put("GOMP_SPINCOUNT", dev.isthmus.bindings.NativeLibraries.GOMP_SPINCOUNT_DEFAULT);
        }
        this.process = pb.start();
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /**
     * The PyTorch worker under {@link #PYTHON}; fails, saying what to install, when that Python
     * or its PyTorch is missing.
     */
    static CompareWorker torch(Path compareDir, int threads) throws IOException {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            throw new IllegalStateException(PYTHON + " not found: the PyTorch peer needs Debian's Python with PyTorch; "
                    + "install it with: " + TORCH_INSTALL);
        }
        CompareWorker w = new CompareWorker("torch", List.of(PYTHON, "torch_worker.py", Integer.toString(threads)), compareDir, threads);
        Map<String, Object> hello = w.read("start-up");
        if (!Boolean.TRUE.equals(hello.get("ok"))) {
            w.close();
            throw new IllegalStateException(PYTHON + " cannot run the PyTorch peer (" + hello.get("error") + "); install it with: "
                    + TORCH_INSTALL);
        }
        return w;
    }

    /** The C worker, built first when its binary is missing or stale; fails, saying what to install, without gcc. */
    static CompareWorker dnnl(Path compareDir, int threads) throws IOException, InterruptedException {
        Path binary = buildDnnlWorker(compareDir);
        return new CompareWorker("c", List.of(binary.toString()), compareDir, threads);
    }

    String name() { return name; }

    /** Sends one command and returns its answer; a worker's error becomes an exception naming the command. */
    Map<String, Object> ask(String command) throws IOException {
        in.write(command);
        in.newLine();
        in.flush();
        Map<String, Object> answer = read(command);
        if (!Boolean.TRUE.equals(answer.get("ok"))) {
            throw new IllegalStateException(name + " worker: '" + command + "' failed: " + answer.get("error"));
        }
        return answer;
    }

    /** The seconds of a timed command. */
    double seconds(String command) throws IOException {
        return ((Number) ask(command).get("seconds")).doubleValue();
    }

    private Map<String, Object> read(String what) throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new IllegalStateException(name + " worker exited during '" + what + "'"
                    + (process.isAlive() ? "" : " with status " + process.exitValue()) + "; its stderr:\n" + logTail());
        }
        try {
            return Json.readObject(line);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(name + " worker answered '" + what + "' with a line that is not JSON: " + line, e);
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override public void close() {
        try {
            if (process.isAlive()) {
                in.write("quit");
                in.newLine();
                in.flush();
            }
        } catch (IOException e) {
            // the worker is gone already
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // a temporary file left behind
        }
    }

    // ---- the C worker's build ------------------------------------------------------------------

    /**
     * compareDir/target/dnnl_worker, rebuilt when the source is newer or when it was linked to
     * another libdnnl.so.3 (the stamp beside it records the link line).
     */
    static Path buildDnnlWorker(Path compareDir) throws IOException, InterruptedException {
        Path source = compareDir.resolve("dnnl_worker.c");
        if (!Files.isRegularFile(source)) throw new IllegalStateException("the C peer's source is missing: " + source);
        NativeLibraries.NativeLibrary dnnl;
        try {
            dnnl = NativeLibraries.dnnl();
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("the C peer links to the libdnnl.so.3 Isthmus loads, which cannot load: " + e.getMessage(), e);
        }
        Path gomp = NativeLibraries.gomp().path();
        Path target = compareDir.resolve("target");
        Files.createDirectories(target);
        Path include = headers(target);
        Path binary = target.resolve("dnnl_worker"), stamp = target.resolve("dnnl_worker.stamp");
        List<String> command = List.of("gcc", "-O2", "-std=c11", "-Wall", "-I", include.toString(), source.toString(),
                "-o", binary.toString(), dnnl.path().toString(), gomp.toString(),
                "-Wl,-rpath," + dnnl.path().getParent() + ",-rpath," + gomp.getParent());
        String line = String.join(" ", command);
        if (Files.isExecutable(binary) && Files.isRegularFile(stamp) && Files.readString(stamp).equals(line)
                && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) > 0) {
            return binary;
        }
        Process gcc;
        try {
            gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("gcc not found: the C peer is built with gcc; install it with: " + GCC_INSTALL, e);
        }
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (gcc.waitFor() != 0) throw new IllegalStateException("building the C peer failed:\n" + line + "\n" + output);
        Files.writeString(stamp, line);
        return binary;
    }

    /** The oneDNN headers of the natives jar on the class path, extracted once into target/include-HASH. */
    private static Path headers(Path target) throws IOException {
        Path jar = null;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String file = Path.of(entry).getFileName() == null ? "" : Path.of(entry).getFileName().toString();
            if (file.startsWith("dnnl-") && file.endsWith("-linux-x86_64.jar")) jar = Path.of(entry);
        }
        if (jar == null) {
            throw new IllegalStateException("the oneDNN natives jar (org.bytedeco:dnnl:linux-x86_64) is not on the class path: "
                    + "the C peer is compiled against its headers");
        }
        String prefix = NativeLibraries.JAR_FOLDER + "include/";
        String key = HexFormat.of().toHexDigits((jar.toAbsolutePath() + ":" + Files.size(jar)).hashCode());
        Path include = target.resolve("include-" + key);
        if (Files.isRegularFile(include.resolve("oneapi/dnnl/dnnl.h"))) return include;
        Path tmp = Files.createTempDirectory(target, "include-");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                if (e.isDirectory() || !e.getName().startsWith(prefix)) continue;
                Path to = tmp.resolve(e.getName().substring(prefix.length())).normalize();
                if (!to.startsWith(tmp)) throw new IOException("bad entry in " + jar + ": " + e.getName());
                Files.createDirectories(to.getParent());
                try (InputStream s = zip.getInputStream(e)) {
                    Files.copy(s, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        try {
            Files.move(tmp, include, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // another run extracted them first: use its copy
            if (!Files.isRegularFile(include.resolve("oneapi/dnnl/dnnl.h"))) throw e;
            deleteTree(tmp);
        }
        return include;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.toList());
            java.util.Collections.reverse(all);
            for (Path p : all) Files.deleteIfExists(p);
        }
    }
}
