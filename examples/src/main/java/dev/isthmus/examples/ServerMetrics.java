// The counters and histograms `isthmus serve` exposes on GET /metrics, in the Prometheus text
// format (version 0.0.4): requests and errors, request latency, queue time and compute time of
// dynamic batching, batch sizes, and the process's resident memory. Lock-free: one LongAdder per
// bucket, so recording from many virtual threads costs no contention worth measuring.
package dev.isthmus.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/** What the server counts; thread-safe. */
final class ServerMetrics {
    /** Latency bucket bounds in seconds: 5 µs steps at the bottom, where a LeNet-5 answer lands. */
    static final double[] LATENCY_BUCKETS = {
            10e-6, 20e-6, 30e-6, 40e-6, 50e-6, 75e-6, 100e-6, 150e-6, 200e-6, 300e-6, 500e-6, 750e-6,
            1e-3, 2e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 10};
    static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    /** A cumulative Prometheus histogram. */
    static final class Histogram {
        private final String name, help;
        private final double[] bounds;
        private final LongAdder[] counts;
        private final LongAdder sumNanos = new LongAdder();   // values in units of 1e-9 (seconds or batch size)
        private final LongAdder count = new LongAdder();

        Histogram(String name, String help, double[] bounds) {
            this.name = name;
            this.help = help;
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }

        void observe(double value) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            count.increment();
            sumNanos.add(Math.round(value * 1e9));
        }

        long count() { return count.sum(); }

        void write(StringBuilder out) {
            out.append("# HELP ").append(name).append(' ').append(help).append('\n');
            out.append("# TYPE ").append(name).append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                out.append(name).append("_bucket{le=\"").append(number(bounds[i])).append("\"} ").append(cumulative).append('\n');
            }
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            out.append(name).append("_sum ").append(number(sumNanos.sum() / 1e9)).append('\n');
            out.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }

    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final Histogram latency = new Histogram("isthmus_request_duration_seconds",
            "Time from reading a POST /v1/predict request to writing its answer.", LATENCY_BUCKETS);
    final Histogram queue = new Histogram("isthmus_batch_queue_seconds",
            "Time a request waited in the dynamic batching queue (0 without batching).", LATENCY_BUCKETS);
    final Histogram compute = new Histogram("isthmus_predict_seconds",
            "Time of the predict call that answered the request (its whole batch).", LATENCY_BUCKETS);
    final Histogram batches = new Histogram("isthmus_batch_size", "Samples in the batch that answered the request.", BATCH_BUCKETS);

    /** The whole exposition. */
    String text() {
        StringBuilder s = new StringBuilder();
        counter(s, "isthmus_requests_total", "POST /v1/predict requests received.", requests.sum());
        counter(s, "isthmus_errors_total", "Requests answered with a 4xx or 5xx status.", errors.sum());
        latency.write(s);
        queue.write(s);
        compute.write(s);
        batches.write(s);
        s.append("# HELP isthmus_resident_memory_bytes Resident set size of the process (native and Java memory).\n");
        s.append("# TYPE isthmus_resident_memory_bytes gauge\n");
        s.append("isthmus_resident_memory_bytes ").append(residentBytes()).append('\n');
        Runtime rt = Runtime.getRuntime();
        s.append("# HELP isthmus_java_heap_used_bytes Java heap in use.\n# TYPE isthmus_java_heap_used_bytes gauge\n");
        s.append("isthmus_java_heap_used_bytes ").append(rt.totalMemory() - rt.freeMemory()).append('\n');
        return s.toString();
    }

    private static void counter(StringBuilder s, String name, String help, long value) {
        s.append("# HELP ").append(name).append(' ').append(help).append('\n');
        s.append("# TYPE ").append(name).append(" counter\n");
        s.append(name).append(' ').append(value).append('\n');
    }

    /** Resident bytes from /proc/self/statm (pages times 4096); -1 where there is no /proc. */
    static long residentBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
            return Long.parseLong(f[1]) * 4096;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.9g", v).replaceAll("0+(e|$)", "$1").replaceAll("\\.(e|$)", "$1");
    }
}
