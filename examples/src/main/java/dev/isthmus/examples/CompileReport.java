// What a compiled model runs and holds, for the command line: reorders per forward or step and native memory.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.Sequential;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/** Prints a compiled model's reorders (as its plans report them) and its native memory per model and per context. */
final class CompileReport {
    private CompileReport() {}

    /** Two or more lines on {@code model} as compiled: mode, batch, reorders, memory. */
    static void print(PrintStream out, Sequential model, boolean training) {
        out.printf(Locale.ROOT, "%s compile, batch %d, on %s: %d oneDNN reorders per %s%n",
                training ? "training" : "inference", model.batch(), model.backend().kind(),
                training ? model.reordersPerStep() : model.reordersPerForward(), training ? "training step" : "forward");
        out.println("  " + model.memory().toString().replace("\n", "\n  "));
    }

    /** Compiles a fresh model from {@code factory} in each mode and batch, prints its report, and frees it. */
    static void compileAndPrint(PrintStream out, Supplier<Sequential> factory, Backend backend, Shape input, int[] batches) {
        for (int batch : batches) {
            try (Sequential m = factory.get().compile(backend, batch, input, Sequential.Mode.INFERENCE, 0)) {
                print(out, m, false);
            }
        }
        int batch = batches[batches.length - 1];
        try (Sequential m = factory.get().compile(backend, batch, input, Sequential.Mode.TRAIN, 0)) {
            print(out, m, true);
        }
    }
}
