package dev.isthmus.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.openjdk.jmh.results.RunResult;

/**
 * Runs {@link LeNetBenchmark} through JMH and prints one row per benchmark and batch: time per
 * step, images per second (batch / time), and, when run with {@code -prof gc}, the heap bytes
 * allocated per step ({@code gc.alloc.rate.norm}).
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.isthmus.bench.LeNetReport -f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc
 * </pre>
 */
public final class LeNetReport {
    private LeNetReport() {}

    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = Reports.run(args, LeNetBenchmark.class);
        if (results == null) return;
        List<RunResult> rows = new ArrayList<>(results.stream()
                .filter(r -> r.getParams().getBenchmark().startsWith(LeNetBenchmark.class.getName() + "."))
                .toList());
        rows.sort(Comparator.<RunResult, String>comparing(Reports::method).reversed()
                .thenComparing(r -> r.getParams().getParam("backend"))
                .thenComparingInt(LeNetReport::batch)
                .thenComparing(r -> r.getParams().getParam("fused"), Comparator.reverseOrder()));

        System.out.println();
        Reports.printMachine(System.out);
        System.out.printf(Locale.ROOT, "%-10s %6s %-9s %-6s %11s %7s %12s %14s%n",
                "benchmark", "batch", "backend", "fused", "us/op", "±%", "images/s", "alloc B/op");
        for (RunResult r : rows) {
            double seconds = Reports.secondsPerOp(r.getPrimaryResult());
            System.out.printf(Locale.ROOT, "%-10s %6d %-9s %-6s %11.1f %7.1f %12.0f %14s%n",
                    Reports.method(r), batch(r), r.getParams().getParam("backend"), r.getParams().getParam("fused"), seconds * 1e6,
                    100 * Reports.relativeError(r.getPrimaryResult()), batch(r) / seconds,
                    Reports.allocatedPerOp(r));
        }
    }

    private static int batch(RunResult r) { return Reports.batch(r, LeNetBenchmark.TRAIN_BATCH); }
}
