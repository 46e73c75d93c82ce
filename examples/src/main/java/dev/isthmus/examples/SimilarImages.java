// `isthmus alexnet similar`: the images of a folder whose last hidden features (fc7 after its
// ReLU, 4096 values) are nearest in Euclidean distance to a query image's, as in figure 4 of
// Krizhevsky et al. 2012. Writes the query and its neighbours as one row of images
// (similar-<query>.png) with the distances in the captions, and prints them.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.examples.figures.ImageGrid;
import dev.isthmus.nn.AlexNet;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageFolder;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/** Nearest neighbours in AlexNet's fc7 feature space. */
final class SimilarImages {
    private SimilarImages() {}

    static int run(Args args, PrintStream out) throws Exception {
        Path file = args.existingFile("checkpoint");
        Path dataDir = args.existingFolder("data");
        Path query = args.existingFile("query");
        int k = args.intInRange("neighbours", 1, 100);
        int batch = args.positiveInt("batch");
        BackendKind kind = args.choice("backend", BackendKind.values());
        AlexnetCommand.Checkpointed saved = AlexnetCommand.Checkpointed.read(file);
        Path outDir = args.has("out") ? args.path("out") : file.toAbsolutePath().getParent();
        int side = AlexnetCommand.crop(saved.variant());
        int threads = Math.min(4, Runtime.getRuntime().availableProcessors());

        // The query goes through exactly the training images' pipeline: a one-image folder.
        Path queryRoot = Files.createTempDirectory("isthmus-query-");
        try {
            Files.createDirectories(queryRoot.resolve("query"));
            Files.copy(query, queryRoot.resolve("query").resolve(query.getFileName()));
            try (ImageFolder data = ImageFolder.load(dataDir, AlexnetCommand.STORED_SIDE, threads);
                 ImageFolder q = ImageFolder.load(queryRoot, AlexnetCommand.STORED_SIDE, 1);
                 Backend backend = Backends.create(kind);
                 Sequential model = AlexnetCommand.model(saved.variant(), saved.classes(data).size());
                 Arena arena = Arena.ofConfined()) {
                if (q.count() != 1) throw new Args.UsageError("--query: " + query + " is not a readable JPEG or PNG image");
                model.compile(backend, batch, Shape.of(3, side, side), Sequential.Mode.INFERENCE, 0);
                Checkpoint.load(file, model, null);
                int layer = AlexNet.featureLayer(model);
                int dims = model.outputShapes().get(layer).dim(0);
                var centre = ImageFolder.Transform.center(side, saved.mean(), saved.scale());
                long imageBytes = 3L * side * side * Float.BYTES;
                MemorySegment staging = arena.allocate(batch * imageBytes, 64);   // (batch, 3, side, side)
                try (Tensor input = backend.allocate(Shape.of(batch, 3, side, side), DType.F32)) {
                    float[][] features = new float[data.count()][];
                    try (BatchLoader loader = data.loader(data.indices(), batch, 0, centre, false, false)) {
                        for (BatchLoader.Batch b : loader.epoch(0)) {
                            float[] f = features(model, layer, input, staging, b.images(), b.size(), imageBytes);
                            for (int j = 0; j < b.size(); j++) {
                                features[b.index(j)] = java.util.Arrays.copyOfRange(f, j * dims, (j + 1) * dims);
                            }
                        }
                    }
                    MemorySegment one = arena.allocate(imageBytes, 64);
                    q.render(0, centre, new Random(0), one);
                    float[] qf = java.util.Arrays.copyOf(features(model, layer, input, staging, one, 1, imageBytes), dims);

                    Integer[] order = new Integer[data.count()];
                    double[] distance = new double[data.count()];
                    for (int i = 0; i < order.length; i++) {
                        order[i] = i;
                        double d = 0;
                        for (int c = 0; c < dims; c++) {
                            double diff = features[i][c] - qf[c];
                            d += diff * diff;
                        }
                        distance[i] = Math.sqrt(d);
                    }
                    java.util.Arrays.sort(order, (a, b) -> Double.compare(distance[a], distance[b]));
                    int shown = Math.min(k, order.length);
                    List<ImageGrid.Cell> cells = new ArrayList<>();
                    cells.add(ImageGrid.rgb(centreCrop(q, 0, side), side, side, 0, 255, "query"));
                    out.printf(Locale.ROOT, "the %d images of %s nearest to %s in fc7 feature space (layer %d '%s', %d values):%n",
                            shown, dataDir, query, layer, model.layers().get(layer).name(), dims);
                    for (int r = 0; r < shown; r++) {
                        int i = order[r];
                        String cls = data.classes().get(data.label(i));
                        cells.add(ImageGrid.rgb(centreCrop(data, i, side), side, side, 0, 255,
                                String.format(Locale.ROOT, "%s %.3g", cls, distance[i])));
                        out.printf(Locale.ROOT, "  %d. distance %8.3f  %-12s %s%n", r + 1, distance[i], cls, data.file(i));
                    }
                    Files.createDirectories(outDir);
                    String stem = query.getFileName().toString().replaceFirst("\\.[^.]*$", "");
                    Path png = outDir.resolve("similar-" + stem + ".png");
                    ImageGrid.write(png, "nearest in fc7 feature space (Euclidean)", cells, cells.size(), 1);
                    out.println("wrote " + png);
                }
            }
        } finally {
            AlexnetCommand.deleteTree(queryRoot);
        }
        return 0;
    }

    /** The centre crop of image i as (3, side, side) floats in [0, 255], as the model saw it before the mean. */
    private static float[] centreCrop(ImageFolder folder, int i, int side) {
        return folder.crop(i, (folder.height(i) - side) / 2, (folder.width(i) - side) / 2, side, false);
    }

    /** Rows of the feature layer's output, (n, dims), for n images (n <= batch) padded to a full batch. */
    private static float[] features(Sequential model, int layer, Tensor input, MemorySegment staging, MemorySegment images,
                                    int n, long imageBytes) {
        if (n < model.batch()) staging.fill((byte) 0);
        MemorySegment.copy(images, 0, staging, 0, n * imageBytes);
        input.copyFromHost(staging);
        return model.forwardTo(input, layer).toFloatArray();
    }
}
