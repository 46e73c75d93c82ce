package dev.isthmus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `isthmus alexnet` and `isthmus shapes` through Main: the summary, argument errors, generated files. */
class AlexnetCommandTest {
    @TempDir
    Path tmp;

    private static MainTest.Result run(String... argv) { return MainTest.run(argv); }

    private static String firstErrorLine(MainTest.Result r) { return r.err().lines().findFirst().orElseThrow(); }

    @Test void summaryPrintsEveryLayerAndTheExactParameterCount() {
        MainTest.Result r = run("alexnet", "--summary");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("AlexNet (paper), 1000 classes, input (3, 227, 227)\n"), r.out());
        for (String layer : List.of("conv1", "norm1", "pool1", "conv2", "conv3", "conv4", "conv5", "pool5", "fc6", "drop6", "fc7", "fc8")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(layer + " ")), layer + " missing:\n" + r.out());
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("pool5 ") && l.contains("[256, 6, 6]")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("total ") && l.contains("60,965,224")), r.out());
        MainTest.Result modern = run("alexnet", "--summary", "--variant", "modern");
        assertEquals(0, modern.code(), modern.err());
        assertTrue(modern.out().lines().anyMatch(l -> l.startsWith("total ") && l.contains("61,100,840")), modern.out());
    }

    @Test void dataOrSyntheticIsRequiredButNotBoth() {
        MainTest.Result none = run("alexnet", "--epochs", "1");
        assertEquals(2, none.code());
        assertEquals("isthmus alexnet: give --data DIR (an image folder) or --synthetic", firstErrorLine(none));
        assertTrue(none.err().contains("usage: ./isthmus alexnet [train|eval|similar|lr-find] [flags]"), none.err());
        MainTest.Result both = run("alexnet", "--synthetic", "--data", tmp.toString());
        assertEquals(2, both.code());
        assertEquals("isthmus alexnet: give either --data or --synthetic, not both", firstErrorLine(both));
    }

    @Test void badValuesAreUsageErrorsNamingTheFlag() {
        assertEquals("isthmus alexnet: --variant: expected one of paper, modern, got 'vgg'",
                firstErrorLine(run("alexnet", "--synthetic", "--variant", "vgg")));
        assertEquals("isthmus alexnet: --optimizer: expected one of [sgd, adam], got 'lbfgs'",
                firstErrorLine(run("alexnet", "--synthetic", "--optimizer", "lbfgs")));
        assertEquals("isthmus alexnet: --batch: expected a positive integer, got '0'",
                firstErrorLine(run("alexnet", "--synthetic", "--batch", "0")));
        assertEquals("isthmus alexnet: --data: expected an existing folder, got '" + tmp.resolve("nope") + "' (it does not exist)",
                firstErrorLine(run("alexnet", "--data", tmp.resolve("nope").toString())));
        assertEquals("isthmus alexnet: --query applies only to similar, not to train",
                firstErrorLine(run("alexnet", "--query", "q.png")));
        assertEquals("isthmus alexnet: --checkpoint is required (FILE)",
                firstErrorLine(run("alexnet", "similar", "--data", tmp.toString(), "--query", "q.png")));
        assertEquals("isthmus alexnet: --per-class applies only with --synthetic",
                firstErrorLine(run("alexnet", "--data", tmp.toString(), "--per-class", "5")));
        MainTest.Result bigBatch = run("alexnet", "--synthetic", "--per-class", "3", "--batch", "64", "--out", tmp.resolve("run").toString());
        assertEquals(2, bigBatch.code(), bigBatch.err());
        assertEquals("isthmus alexnet: --batch 64 exceeds the 30 training images", firstErrorLine(bigBatch));
    }

    @Test void shapesWritesKTimesNFiles() throws IOException {
        Path out = tmp.resolve("shapes");
        MainTest.Result r = run("shapes", "--out", out.toString(), "--classes", "3", "--per-class", "11", "--size", "24", "--seed", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote 3 classes x 11 images of 24x24 (33 files) to " + out), r.out());
        try (Stream<Path> dirs = Files.list(out)) {
            assertEquals(List.of("circle", "square", "triangle"), dirs.map(p -> p.getFileName().toString()).sorted().toList());
        }
        for (String cls : List.of("circle", "square", "triangle")) {
            try (Stream<Path> files = Files.list(out.resolve(cls))) {
                assertEquals(11, files.count(), cls);
            }
        }
        assertEquals("isthmus shapes: --classes: expected an integer in [1, 14], got '15'",
                firstErrorLine(run("shapes", "--out", out.toString(), "--classes", "15")));
        assertEquals("isthmus shapes: --out is required (DIR)", firstErrorLine(run("shapes")));
        Path easy = tmp.resolve("easy");
        MainTest.Result e = run("shapes", "--easy", "--out", easy.toString(), "--per-class", "2", "--size", "24");
        assertEquals(0, e.code(), e.err());
        try (Stream<Path> dirs = Files.list(easy)) {
            assertEquals(List.of("arrow", "circle", "crescent", "cross", "heart", "hexagon", "ring", "square", "star", "triangle"),
                    dirs.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals("isthmus shapes: --classes: expected an integer in [1, 10], got '11'",
                firstErrorLine(run("shapes", "--easy", "--out", easy.toString(), "--classes", "11")));
    }
}
