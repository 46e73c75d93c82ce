// `isthmus shapes`: writes the procedural Shapes dataset (nn.data.Shapes) as an image folder,
// one subfolder per class, for `isthmus alexnet --data` or any ImageFolder reader.
package dev.isthmus.examples;

import dev.isthmus.nn.data.Shapes;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Generates a Shapes image folder. */
final class ShapesCommand implements Command {
    private final Args.Spec spec = new Args.Spec()
            .description("Writes a procedural image-classification dataset: K classes of geometric shapes (" + Shapes.CLASSES.getFirst()
                    + ", " + Shapes.CLASSES.get(1) + ", ...) with random colours, sizes, positions,\n"
                    + "rotations, backgrounds and noise, as DIR/<class>/NNNN.png (every tenth image a JPEG; --format jpeg: all JPEG). The same seed\n"
                    + "gives the same files. Train on it with 'isthmus alexnet --data DIR'. --easy draws ten distinct shapes\n"
                    + "(" + String.join(", ", Shapes.EASY_CLASSES) + ") dark on light, large, nearly upright,\n"
                    + "with little noise: the data of 'isthmus alexnet --synthetic'.")
            .flag("out", "DIR", null, "the folder to write (created if missing)")
            .flag("classes", "K", "10", "number of classes, at most " + Shapes.CLASSES.size() + " (--easy: " + Shapes.EASY_CLASSES.size() + ")")
            .bool("easy", "the easy images (ten distinct shapes, dark on light, large, nearly upright, little noise)")
            .flag("per-class", "N", "100", "images per class")
            .flag("size", "S", "256", "image side in pixels")
            .flag("seed", "N", "1", "seed of the random images")
            .flag("format", "NAME", "mixed", "mixed (PNG, every tenth a JPEG), jpeg (all JPEG) or png")
            .example("shapes --out data/shapes")
            .example("shapes --out data/shapes-small --classes 4 --per-class 20 --size 64")
            .example("shapes --out data/shapes-easy --easy")
            .example("shapes --out data/shapes-jpeg --easy --per-class 66 --format jpeg");

    @Override public String name() { return "shapes"; }

    @Override public String summary() { return "write the procedural Shapes image dataset (one folder per class)"; }

    @Override public Args.Spec spec() { return spec; }

    @Override public int run(Args args, PrintStream out) throws Exception {
        Path dir = args.path("out");
        Shapes.Difficulty difficulty = args.bool("easy") ? Shapes.Difficulty.EASY : Shapes.Difficulty.HARD;
        int classes = args.intInRange("classes", 1, difficulty.classes().size());
        int perClass = args.intInRange("per-class", 1, 9999);
        int size = args.intInRange("size", 8, 4096);
        long seed = args.intInRange("seed", 0, Integer.MAX_VALUE);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new Args.UsageError("--out: '" + dir + "' exists and is not a folder");
        }
        long t0 = System.nanoTime();
        Shapes.Format format = args.choice("format", Shapes.Format.values());
        List<Path> folders = Shapes.write(dir, classes, perClass, size, seed, difficulty, format);
        out.printf(Locale.ROOT, "wrote %d classes x %d images of %dx%d (%d files) to %s in %.1f s%n", classes, perClass,
                size, size, classes * perClass, dir, (System.nanoTime() - t0) / 1e9);
        out.println("classes: " + String.join(" ", folders.stream().map(p -> p.getFileName().toString()).toList()));
        return 0;
    }
}
