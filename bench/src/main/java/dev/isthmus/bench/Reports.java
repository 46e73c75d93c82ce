package dev.isthmus.bench;

import java.io.PrintStream;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * What {@link ConvReport} and {@link LeNetReport} share: JMH run programmatically with the
 * usual JMH command-line options ({@code -f -wi -w -i -r -p -prof ...}), then the scores read
 * back as seconds per operation for a derived table.
 */
final class Reports {
    private Reports() {}

    /**
     * Runs {@code benchmark}'s methods (or those the arguments' regular expressions select) with
     * the JMH options in {@code args}; null if only help was asked for.
     */
    static Collection<RunResult> run(String[] args, Class<?> benchmark) throws RunnerException {
        CommandLineOptions cli;
        try {
            cli = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            throw new IllegalArgumentException("bad JMH option: " + e.getMessage(), e);
        }
        if (cli.shouldHelp()) {
            try {
                cli.showHelp();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return null;
        }
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        if (cli.getIncludes().isEmpty()) options.include(Pattern.quote(benchmark.getName() + ".") + ".*");
        return new Runner(options.build()).run();
    }

    /** The primary score in seconds per operation, from any JMH time mode's unit ("ms/op", "ops/s", ...). */
    static double secondsPerOp(Result<?> r) {
        String unit = r.getScoreUnit();
        String[] parts = unit.split("/");
        if (parts.length != 2) throw new IllegalArgumentException("unexpected JMH score unit " + unit);
        if (parts[1].equals("op")) return r.getScore() * seconds(parts[0], unit);
        if (parts[0].equals("ops")) return seconds(parts[1], unit) / r.getScore();
        throw new IllegalArgumentException("unexpected JMH score unit " + unit);
    }

    /** The half-width of the score's 99.9% confidence interval, relative to the score (NaN if JMH has none). */
    static double relativeError(Result<?> r) {
        return Double.isFinite(r.getScoreError()) ? r.getScoreError() / r.getScore() : Double.NaN;
    }

    /** The benchmark method's name: "trainStep", "inference". */
    static String method(RunResult r) {
        String b = r.getParams().getBenchmark();
        return b.substring(b.lastIndexOf('.') + 1);
    }

    /** The {@code batch} parameter, or {@code otherwise} for benchmarks without one (training steps). */
    static int batch(RunResult r, int otherwise) {
        String b = r.getParams().getParam("batch");
        return b == null ? otherwise : Integer.parseInt(b);
    }

    /** Heap bytes per operation ({@code -prof gc}'s gc.alloc.rate.norm), or a hint to run with it. */
    static String allocatedPerOp(RunResult r) {
        Result<?> alloc = secondary(r, "gc.alloc.rate.norm");
        return alloc == null ? "(-prof gc)" : String.format(java.util.Locale.ROOT, "%.1f", alloc.getScore());
    }

    /** A secondary result whose name ends with {@code suffix} (JMH 1.37 names them "gc.alloc.rate.norm"), or null. */
    static Result<?> secondary(RunResult run, String suffix) {
        for (Map.Entry<String, Result> e : run.getAggregatedResult().getSecondaryResults().entrySet()) {
            if (e.getKey().endsWith(suffix)) return e.getValue();
        }
        return null;
    }

    /** Machine, JDK and date, for the head of a table. */
    static void printMachine(PrintStream out) {
        out.printf(Locale.ROOT, "# %d processors, %s %s, %s %s, %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"), System.getProperty("os.name"), System.getProperty("os.arch"),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }

    private static double seconds(String timeUnit, String unit) {
        return switch (timeUnit) {
            case "ns" -> 1e-9;
            case "us" -> 1e-6;
            case "ms" -> 1e-3;
            case "s" -> 1;
            case "min" -> 60;
            default -> throw new IllegalArgumentException("unexpected time unit in JMH score unit " + unit);
        };
    }
}
