package dev.isthmus.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.openjdk.jmh.results.RunResult;

/**
 * Runs {@link ConvBenchmark} through JMH and prints one row per problem and pass: time per
 * pass and GFLOP/s, with FLOPs from {@link dev.isthmus.engine.Conv2dSpec#flops()} (two per
 * multiply-add, padding included, the same count for all three passes).
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.isthmus.bench.ConvReport -f 1 -wi 3 -w 1s -i 5 -r 1s \
 *        -p backend=dnnl -p problem=alexnet:conv1,lenet:c1
 * </pre>
 *
 * Takes JMH's own options; with no benchmark regular expression it runs every ConvBenchmark method.
 */
public final class ConvReport {
    private ConvReport() {}

    private static final List<String> PASSES = List.of("forward", "backwardData", "backwardWeights");

    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = Reports.run(args, ConvBenchmark.class);
        if (results == null) return;
        List<String> order = new ArrayList<>(Problems.table().keySet());
        List<RunResult> rows = new ArrayList<>(results.stream()
                .filter(r -> r.getParams().getBenchmark().startsWith(ConvBenchmark.class.getName() + "."))
                .toList());
        rows.sort(Comparator.<RunResult>comparingInt(r -> rank(order, r.getParams().getParam("problem")))
                .thenComparing(r -> r.getParams().getParam("problem"))
                .thenComparing(r -> r.getParams().getParam("backend"))
                .thenComparingInt(r -> rank(PASSES, pass(r))));

        System.out.println();
        Reports.printMachine(System.out);
        System.out.printf(Locale.ROOT, "%-18s %-16s %-9s %9s %11s %7s %9s%n",
                "problem", "pass", "backend", "GFLOP", "ms/op", "±%", "GFLOP/s");
        for (RunResult r : rows) {
            String problem = r.getParams().getParam("problem");
            double flops = Problems.resolve(problem).spec().flops();
            double seconds = Reports.secondsPerOp(r.getPrimaryResult());
            boolean computes = !pass(r).equals("planCreation");   // creating a plan does no arithmetic
            System.out.printf(Locale.ROOT, "%-18s %-16s %-9s %9s %11.3f %7.1f %9s%n",
                    problem, pass(r), r.getParams().getParam("backend"),
                    computes ? String.format(Locale.ROOT, "%.3f", flops / 1e9) : "-", seconds * 1e3,
                    100 * Reports.relativeError(r.getPrimaryResult()),
                    computes ? String.format(Locale.ROOT, "%.1f", flops / seconds / 1e9) : "-");
        }
    }

    private static String pass(RunResult r) {
        String b = r.getParams().getBenchmark();
        return b.substring(b.lastIndexOf('.') + 1);
    }

    private static int rank(List<String> order, String value) {
        int i = order.indexOf(value);
        return i < 0 ? order.size() : i;
    }
}
