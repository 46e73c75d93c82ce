// The rules of a training run's output folder, shared by `lenet` and `alexnet`: an earlier run is
// never replaced without --overwrite, --resume continues the run's history, and the leftovers of
// an interrupted save are removed at the next start in that folder.
package dev.isthmus.examples;

import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.io.Json;
import dev.isthmus.nn.io.TempFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Checks and prepares a run's {@code --out} folder before any work starts. */
final class RunFolder {
    /** The files whose presence means the folder holds an earlier run. */
    static final List<String> RUN_FILES = List.of("model.safetensors", "metrics.json");

    private RunFolder() {}

    /**
     * Creates {@code dir} if needed and removes the temporary files of an interrupted save. Refuses
     * (with {@link Args.UsageError}) a folder that is a file, cannot be created or written, or
     * holds an earlier run, unless {@code overwrite} or the run is being continued from a
     * checkpoint in that same folder ({@code resume}).
     */
    static void prepare(Path dir, boolean overwrite, Path resume, PrintStream out) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new Args.UsageError("--out " + dir + " is a file, not a folder: give a folder for the run's files");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException | SecurityException e) {
            throw new Args.UsageError("--out " + dir + ": cannot create the folder (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) throw new Args.UsageError("--out " + dir + ": the folder is not writable");
        removeLeftovers(dir, out);
        List<String> earlier = new ArrayList<>();
        for (String f : RUN_FILES) if (Files.exists(dir.resolve(f))) earlier.add(f);
        if (earlier.isEmpty() || overwrite || continues(dir, resume)) return;
        throw new Args.UsageError("--out " + dir + " holds an earlier run (" + String.join(", ", earlier)
                + "); give another --out, continue it with --resume " + dir.resolve("model.safetensors")
                + ", or add --overwrite to replace it");
    }

    /** Whether {@code resume} is a checkpoint inside {@code dir}: continuing that run is not overwriting it. */
    private static boolean continues(Path dir, Path resume) throws IOException {
        if (resume == null || !Files.exists(resume)) return false;
        Path parent = resume.toAbsolutePath().getParent();
        return parent != null && Files.isSameFile(parent, dir);
    }

    /**
     * A new hidden folder {@code .<what>-<n>.scratch} inside the run's folder for temporary data (a
     * generated data set): deleted by the run on exit, and by the next start in the folder if a
     * {@code kill -9} prevented that.
     */
    static Path scratchFolder(Path dir, String what) throws IOException {
        return Files.createTempDirectory(dir, "." + what + "-");   // 0700: scratch, nobody else's business
    }

    private static boolean isScratch(String name) {
        return name.startsWith(".") && name.matches("\\.[a-z]+-[0-9]+");
    }

    /** Deletes the {@code .<name>.<n>.tmp} files of an interrupted save and scratch folders a killed run left; says which. */
    static int removeLeftovers(Path dir, PrintStream out) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (TempFiles.isLeftover(name) && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(f);
                    out.println("removed " + Terminal.escape(f.toString()) + ", left by an interrupted save");
                    removed++;
                } else if (isScratch(name) && Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    AlexnetCommand.deleteTree(f);
                    out.println("removed " + Terminal.escape(f.toString()) + ", the temporary data of an interrupted run");
                    removed++;
                }
            }
        }
        return removed;
    }

    /**
     * The epochs 1 .. {@code upToEpoch} recorded in the metrics.json beside {@code checkpoint} (the
     * run being continued), so that a resumed run's metrics.json and curves.png keep them. Empty
     * when there is no such file. Throws naming the file when it is not a run's metrics.
     */
    static List<Trainer.EpochStats> history(Path checkpoint, int upToEpoch) throws IOException {
        Path parent = checkpoint.toAbsolutePath().getParent();
        Path metrics = parent == null ? null : parent.resolve("metrics.json");
        if (metrics == null || !Files.isRegularFile(metrics)) return List.of();
        List<Trainer.EpochStats> epochs = new ArrayList<>();
        try {
            Map<String, Object> root = Json.readObject(Files.readString(metrics));
            if (!(root.get("epochs") instanceof List<?> list)) throw new IllegalArgumentException("no \"epochs\" list");
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> e)) throw new IllegalArgumentException("an epoch is not an object: " + o);
                int epoch = (int) number(e, "epoch");
                if (epoch > upToEpoch) continue;   // epochs after the checkpoint are retrained
                epochs.add(new Trainer.EpochStats(epoch, number(e, "train_loss"), number(e, "train_error"), Double.NaN,
                        number(e, "validation_loss"), number(e, "validation_error"), Double.NaN,
                        number(e, "test_loss"), number(e, "test_error"), number(e, "test_top5_error"),
                        number(e, "seconds"), number(e, "images_per_second"), (float) number(e, "lr"), false));
            }
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException(metrics + ": not the metrics of a run (" + e.getMessage()
                    + "); move it away to resume without the earlier epochs' history", e);
        }
        return epochs;
    }

    private static double number(Map<?, ?> epoch, String key) {
        Object v = epoch.get(key);
        if (v == null) return Double.NaN;   // written as null when not finite or not measured
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("key \"" + key + "\" is " + v + ", expected a number");
    }
}
