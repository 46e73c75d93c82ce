package dev.isthmus.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.openjdk.jmh.results.RunResult;

/**
 * Runs {@link AlexNetBenchmark} through JMH and prints one row per variant, benchmark and batch:
 * (and fused or not: {@code -p fused=true,false}) time per step, images per second (batch / time), and, when run with {@code -prof gc}, the
 * heap bytes allocated per step ({@code gc.alloc.rate.norm}). The reorders per step and the
 * model's memory are printed by each trial's setup, above the table.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.isthmus.bench.AlexNetReport -f 1 -wi 2 -w 2s -i 3 -r 2s
 * </pre>
 */
public final class AlexNetReport {
    private AlexNetReport() {}

    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = Reports.run(args, AlexNetBenchmark.class);
        if (results == null) return;
        List<RunResult> rows = new ArrayList<>(results.stream()
                .filter(r -> r.getParams().getBenchmark().startsWith(AlexNetBenchmark.class.getName() + "."))
                .toList());
        rows.sort(Comparator.<RunResult, String>comparing(r -> r.getParams().getParam("variant")).reversed()
                .thenComparing(Comparator.<RunResult, String>comparing(Reports::method).reversed())
                .thenComparing(r -> r.getParams().getParam("backend"))
                .thenComparingInt(AlexNetReport::batch)
                .thenComparing(r -> r.getParams().getParam("fused"), Comparator.reverseOrder()));

        System.out.println();
        Reports.printMachine(System.out);
        System.out.printf(Locale.ROOT, "%-8s %-10s %6s %-9s %-6s %11s %7s %10s %14s%n",
                "variant", "benchmark", "batch", "backend", "fused", "ms/op", "±%", "images/s", "alloc B/op");
        for (RunResult r : rows) {
            double seconds = Reports.secondsPerOp(r.getPrimaryResult());
            System.out.printf(Locale.ROOT, "%-8s %-10s %6d %-9s %-6s %11.2f %7.1f %10.1f %14s%n",
                    r.getParams().getParam("variant"), Reports.method(r), batch(r), r.getParams().getParam("backend"),
                    r.getParams().getParam("fused"),
                    seconds * 1e3, 100 * Reports.relativeError(r.getPrimaryResult()), batch(r) / seconds,
                    Reports.allocatedPerOp(r));
        }
    }

    private static int batch(RunResult r) { return Reports.batch(r, AlexNetBenchmark.TRAIN_BATCH); }
}
