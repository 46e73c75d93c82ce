package dev.isthmus.nn.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the four MNIST IDX files are. A folder holds them under their
 * standard names, each raw or gzipped ({@code .gz}); when both are present
 * the raw one is used. To find a folder (the {@code --data} argument, the
 * {@code ISTHMUS_DATA} variable, the cache, or a fetch with npm) see
 * {@link MnistLocator}.
 *
 * @param trainImages (60000, 28, 28) images for training
 * @param trainLabels (60000) labels for training
 * @param testImages  (10000, 28, 28) images for testing
 * @param testLabels  (10000) labels for testing
 */
public record MnistFiles(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** The four standard names, without {@code .gz}, in the order of the record's components. */
    public static final List<String> NAMES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    /** The four files in {@code folder}, if all four are there (raw or {@code .gz}). */
    public static Optional<MnistFiles> in(Path folder) {
        Path[] found = new Path[NAMES.size()];
        for (int i = 0; i < found.length; i++) {
            found[i] = find(folder, NAMES.get(i));
            if (found[i] == null) {
                return Optional.empty();
            }
        }
        return Optional.of(new MnistFiles(found[0], found[1], found[2], found[3]));
    }

    /** What {@link #in(Path)} misses in {@code folder}: "no such folder", or the missing names. */
    public static String missing(Path folder) {
        if (!Files.isDirectory(folder)) {
            return "no such folder";
        }
        List<String> missing = new ArrayList<>();
        for (String name : NAMES) {
            if (find(folder, name) == null) {
                missing.add(name + "[.gz]");
            }
        }
        return missing.isEmpty() ? "all four files present" : "missing " + String.join(", ", missing);
    }

    private static Path find(Path folder, String name) {
        Path raw = folder.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = folder.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : null;
    }
}
