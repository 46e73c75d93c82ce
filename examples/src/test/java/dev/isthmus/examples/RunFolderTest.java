package dev.isthmus.examples;

import dev.isthmus.nn.Progress;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.io.TempFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14's "no run lost" findings, each failing before: --out on a finished run replaced it
 * without a word, --resume kept only the resumed epochs, an interrupted save's .tmp stayed, output
 * files were 0600 whatever the umask, and control bytes from a file reached the terminal raw.
 */
class RunFolderTest {
    @TempDir Path dir;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private Path finishedRun() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("model.safetensors"), "weights");
        Files.writeString(run.resolve("metrics.json"), """
                {"config": {}, "epochs": [
                  {"epoch": 1, "train_loss": 0.5, "train_error": 0.1, "validation_loss": null, "validation_error": null,
                   "test_loss": 0.4, "test_error": 0.09, "test_top5_error": 0.01, "lr": 0.05, "seconds": 3.0, "images_per_second": 900},
                  {"epoch": 2, "train_loss": 0.3, "train_error": 0.05, "validation_loss": null, "validation_error": null,
                   "test_loss": 0.2, "test_error": 0.04, "test_top5_error": 0.0, "lr": 0.05, "seconds": 3.0, "images_per_second": 950}],
                 "result": {"test_error": 0.04}}
                """);
        return run;
    }

    @Test
    void aFinishedRunIsNotReplacedWithoutOverwrite() throws Exception {
        Path run = finishedRun();
        var e = assertThrows(Args.UsageError.class, () -> RunFolder.prepare(run, false, null, out));
        assertEquals("--out " + run + " holds an earlier run (model.safetensors, metrics.json); give another --out, continue it with --resume "
                + run.resolve("model.safetensors") + ", or add --overwrite to replace it", e.getMessage());
        assertEquals("weights", Files.readString(run.resolve("model.safetensors")));
        RunFolder.prepare(run, true, null, out);                                  // on purpose
        RunFolder.prepare(run, false, run.resolve("model.safetensors"), out);     // continuing it
        Path other = dir.resolve("other.safetensors");
        Files.writeString(other, "x");
        assertThrows(Args.UsageError.class, () -> RunFolder.prepare(run, false, other, out));   // another run's checkpoint
    }

    @Test
    void badOutFoldersAreNamedWithTheReason() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "");
        var e = assertThrows(Args.UsageError.class, () -> RunFolder.prepare(file, false, null, out));
        assertEquals("--out " + file + " is a file, not a folder: give a folder for the run's files", e.getMessage());
        Path proc = Path.of("/proc/isthmus-run");
        e = assertThrows(Args.UsageError.class, () -> RunFolder.prepare(proc, false, null, out));
        assertTrue(e.getMessage().startsWith("--out /proc/isthmus-run: cannot create the folder ("), e.getMessage());
    }

    @Test
    void leftoversOfAnInterruptedSaveAreRemovedAtTheNextStart() throws Exception {
        Path run = dir.resolve("killed");
        Files.createDirectories(run.resolve(".shapes-123456"));
        Files.writeString(run.resolve(".shapes-123456").resolve("a.png"), "x");
        Files.writeString(run.resolve(".model.safetensors.8412.tmp"), "half");
        Files.writeString(run.resolve(".curves.png.77.tmp"), "");
        Files.writeString(run.resolve(".keep"), "not ours");
        RunFolder.prepare(run, false, null, out);
        try (var s = Files.list(run)) {
            assertEquals(List.of(".keep"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("removed " + run.resolve(".model.safetensors.8412.tmp")
                + ", left by an interrupted save"), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void resumeKeepsTheEarlierEpochs() throws Exception {
        Path run = finishedRun();
        List<Trainer.EpochStats> history = RunFolder.history(run.resolve("model.safetensors"), 1);
        assertEquals(1, history.size());   // epoch 2 comes after the checkpoint's epoch 1: it is trained again
        assertEquals(0.5, history.getFirst().trainLoss());
        assertTrue(Double.isNaN(history.getFirst().validationError()));
        assertEquals(2, RunFolder.history(run.resolve("model.safetensors"), 5).size());
        Files.writeString(run.resolve("metrics.json"), "{\"epochs\": [{\"epoch\": \"one\"}]}");
        var e = assertThrows(IllegalArgumentException.class, () -> RunFolder.history(run.resolve("model.safetensors"), 5));
        assertTrue(e.getMessage().startsWith(run.resolve("metrics.json") + ": not the metrics of a run (key \"epoch\" is one"), e.getMessage());
    }

    @Test
    void savesFollowTheUmask() throws Exception {
        Path reference = Files.createFile(dir.resolve("made-by-createFile"));   // the mode the umask gives a new file
        Path tmp = TempFiles.createBeside(dir.resolve("model.safetensors"));
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(reference)),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp)));
        assertTrue(TempFiles.isLeftover(tmp.getFileName().toString()), tmp.toString());
        Path png = dir.resolve("metrics.txt");
        new RunReport(dir, Map.of()).writeText("metrics.txt", "x");
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(png));
    }

    @Test
    void controlBytesFromFilesAreEscaped() {
        assertEquals("bad header \\x1b[31mred\\x00 \\x07 \\u009b ok\nnext\tline", Terminal.escape("bad header \u001b[31mred\u0000 \u0007 \u009b ok\nnext\tline"));
        assertEquals("plain", Terminal.escape("plain"));
    }

    @Test
    void anInterruptSaysWhereTheRunWasAndWhatItKept() {
        Progress p = Progress.silent();
        p.start("epoch 3/10", 937);
        p.update(812, 812 * 64, 0.1);
        RunInterrupt r = RunInterrupt.install(p, Path.of("runs/x/model.safetensors"), out);
        try {
            assertEquals("interrupted at epoch 3/10, batch 812 of 937; no checkpoint written yet", r.message());
            r.saved(2);
            assertEquals("interrupted at epoch 3/10, batch 812 of 937; last checkpoint epoch 2 in runs/x/model.safetensors"
                    + " (--resume runs/x/model.safetensors continues it)", r.message());
        } finally {
            r.close();
        }
        assertFalse(r.message().isEmpty());
    }

    /** Issue 14: a relu checkpoint resumed without --variant trained the tanh network on ReLU weights. */
    @Test
    void lenetResumesTheCheckpointsVariant() throws Exception {
        Path ckpt = dir.resolve("relu.safetensors");
        dev.isthmus.nn.io.Safetensors.write(ckpt, Map.of("w", dev.isthmus.nn.io.Safetensors.Entry.ofFloats(new float[1], 1)),
                Map.of("variant", "relu"));
        Args.Spec spec = new LenetCommand().spec();
        Args plain = spec.parse(List.of("--resume", ckpt.toString()));
        assertEquals(LenetCommand.Variant.RELU, LenetCommand.resumedVariant(ckpt, plain, LenetCommand.Variant.CLASSIC));
        Args classic = spec.parse(List.of("--resume", ckpt.toString(), "--variant", "classic"));
        var e = assertThrows(Args.UsageError.class, () -> LenetCommand.resumedVariant(ckpt, classic, LenetCommand.Variant.CLASSIC));
        assertEquals("--resume: " + ckpt + " is LeNet-5 relu, not --variant classic", e.getMessage());
    }

    /** Issue 14: an out folder deleted mid-run printed only the temporary file's path. */
    @Test
    void aSaveIntoADeletedFolderSaysSo() {
        Path gone = dir.resolve("deleted").resolve("model.safetensors");
        var e = assertThrows(java.nio.file.NoSuchFileException.class, () -> TempFiles.createBeside(gone));
        assertEquals(gone.toAbsolutePath() + ": cannot save: the folder " + gone.toAbsolutePath().getParent()
                + " does not exist (deleted while the run was writing to it?)", e.getMessage());
    }
}
