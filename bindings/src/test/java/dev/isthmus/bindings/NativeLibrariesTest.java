// Tests where NativeLibraries looks for oneDNN and what it says when it cannot: an explicit path
// wins over the natives jar, a wrong one fails naming the path and ldd, and two JVMs extracting
// into the same empty cache at once leave exactly one complete copy named by its hash.
package dev.isthmus.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {

    @TempDir
    Path temp;

    /** The folder the default search loads from, for tests that need a real libdnnl.so.3. */
    static Path loadedFolder() {
        return NativeLibraries.dnnl().path().getParent();
    }

    @Test
    void explicitPropertyWinsOverEnvironmentAndJar() {
        Path folder = loadedFolder();
        Path cache = temp.resolve("cache");
        NativeLibraries.NativeLibrary lib = NativeLibraries.loadDnnl(folder.toString(), "/no/such/libdnnl.so.3", cache);
        assertEquals("system property isthmus.dnnl.library", lib.source());
        assertEquals(folder.resolve("libdnnl.so.3").toAbsolutePath(), lib.path());
        assertTrue(lib.lookup().find("dnnl_version").isPresent(), "dnnl_version in " + lib.path());
        assertTrue(Files.notExists(cache), "the natives jar must not be extracted when an explicit path is given");
    }

    @Test
    void environmentVariableIsUsedWhenThePropertyIsUnset() {
        Path file = loadedFolder().resolve("libdnnl.so.3");
        NativeLibraries.NativeLibrary lib = NativeLibraries.loadDnnl(null, file.toString(), temp.resolve("cache"));
        assertEquals("environment variable ISTHMUS_DNNL_LIBRARY", lib.source());
        assertEquals(file.toAbsolutePath(), lib.path());
    }

    @Test
    void missingExplicitPathFailsNamingEveryPlace() {
        Path missing = temp.resolve("nowhere/libdnnl.so.3");
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibraries.loadDnnl(missing.toString(), "/from/env", temp.resolve("cache")));
        String message = e.getMessage();
        assertTrue(message.contains("system property isthmus.dnnl.library=" + missing), message);
        assertTrue(message.contains(missing + " does not exist"), message);
        assertTrue(message.contains("environment variable ISTHMUS_DNNL_LIBRARY=/from/env: not tried"), message);
        assertTrue(message.contains("natives jar: not tried"), message);
        assertTrue(message.contains("ldd"), message);
    }

    @Test
    void fileThatIsNotALibraryFailsNamingItAndLdd() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("broken"));
        // An ELF file that is not a shared library: the java launcher (dlopen refuses executables).
        Path file = Files.copy(Path.of(ProcessHandle.current().info().command().orElseThrow()), folder.resolve("libdnnl.so.3"));
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLibraries.loadDnnl(null, folder.toString(), temp.resolve("cache")));
        String message = e.getMessage();
        assertTrue(message.contains("environment variable ISTHMUS_DNNL_LIBRARY=" + folder), message);
        assertTrue(message.contains("system property isthmus.dnnl.library: not set"), message);
        assertTrue(message.contains("opening " + file), message);
        assertTrue(message.contains("ldd " + file.toAbsolutePath()), message);
    }

    @Test
    void defaultSearchUsesTheNativesJarAndFindsGompBesideIt() {
        NativeLibraries.NativeLibrary dnnl = NativeLibraries.dnnl();
        if (System.getProperty(NativeLibraries.DNNL_PROPERTY) == null && System.getenv(NativeLibraries.DNNL_ENV) == null) {
            assertTrue(dnnl.source().startsWith("natives jar, extracted to "), dnnl.source());
            assertTrue(dnnl.path().getParent().getFileName().toString().matches("dnnl-[0-9a-f]{16}"), dnnl.path().toString());
        }
        NativeLibraries.NativeLibrary gomp = NativeLibraries.gomp();
        assertTrue(gomp.lookup().find("omp_get_max_threads").isPresent(), gomp.describe());
        assertTrue(dnnl.describe().contains(dnnl.path().toString()), dnnl.describe());
    }

    @Test
    void systemPropertyWinsInARealJvm() throws Exception {
        Path folder = loadedFolder();
        Path cache = temp.resolve("cache");
        Process p = childJvm(cache, "-D" + NativeLibraries.DNNL_PROPERTY + "=" + folder);
        String out = output(p);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("source=system property isthmus.dnnl.library"), out);
        assertTrue(out.contains("path=" + folder.resolve("libdnnl.so.3")), out);
        assertTrue(out.contains("version=3.13."), out);
        assertTrue(Files.notExists(cache), "nothing extracted: " + out);
    }

    @Test
    void twoJvmsExtractingAtOnceLeaveOneCompleteCopy() throws Exception {
        Path cache = temp.resolve("fresh-cache");
        Process first = childJvm(cache);
        Process second = childJvm(cache);
        String out1 = output(first);
        String out2 = output(second);
        assertEquals(0, first.exitValue(), "first JVM:\n" + out1);
        assertEquals(0, second.exitValue(), "second JVM:\n" + out2);

        String hash = sha256OfResources();
        Path expected = cache.resolve("natives").resolve("dnnl-" + hash.substring(0, 16));
        for (String out : List.of(out1, out2)) {
            assertTrue(out.contains("source=natives jar, extracted to " + expected), out);
            assertTrue(out.contains("version=3.13."), out);
        }
        List<String> entries;
        try (Stream<Path> s = Files.list(cache.resolve("natives"))) {
            entries = s.map(x -> x.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of(expected.getFileName().toString()), entries, "the cache holds exactly one copy, no leftovers");
        try (Stream<Path> s = Files.list(expected)) {
            assertEquals(List.of("libdnnl.so.3", "libgomp.so.1"), s.map(x -> x.getFileName().toString()).sorted().toList());
        }
        assertEquals(hash, sha256(expected.resolve("libdnnl.so.3"), expected.resolve("libgomp.so.1")),
                "the extracted files are the jar's, byte for byte");
    }

    // ---- helpers

    static Process childJvm(Path cache, String... extraFlags) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-D" + NativeLibraries.CACHE_PROPERTY + "=" + cache);
        command.addAll(List.of(extraFlags));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LoaderProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove(NativeLibraries.DNNL_ENV);
        return pb.start();
    }

    static String output(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish:\n" + out);
        return out;
    }

    static String sha256OfResources() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String name : List.of("libdnnl.so.3", "libgomp.so.1")) {
            try (InputStream in = new DigestInputStream(
                    NativeLibrariesTest.class.getClassLoader().getResourceAsStream(NativeLibraries.JAR_FOLDER + name), sha)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static String sha256(Path... files) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Path f : files) {
            try (InputStream in = new DigestInputStream(Files.newInputStream(f), sha)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
