package dev.isthmus.examples;

import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.data.BatchLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loader's figures in a run's epoch line, its summary line and metrics.json. */
class RunReportTest {
    @TempDir
    Path tmp;

    private static Trainer.EpochStats epoch(int e, double seconds) {
        return new Trainer.EpochStats(e, 0.5, 0.1, 0.01, Double.NaN, Double.NaN, Double.NaN, 0.4, 0.09, 0.0,
                seconds, 1000 / seconds, 0.05f, false);
    }

    @Test
    void theWaitShowsAboveThreePercentAndAlwaysInTheMetrics() throws Exception {
        var quick = new BatchLoader.Timing(0, 10, 1000, 0.2, 0.05, 2);  // 2% of a 10 s epoch
        var starved = new BatchLoader.Timing(1, 10, 1000, 2.5, 2.4, 2); // 25%
        assertEquals("", RunReport.dataWait(quick, 10));
        assertEquals("  data wait 25% (loader 417 img/s on 2 threads)", RunReport.dataWait(starved, 10));
        assertEquals("", RunReport.dataWait(null, 10));

        RunReport report = new RunReport(tmp, Map.of());
        report.add(epoch(1, 10), quick);
        report.add(epoch(2, 10), starved);
        report.add(epoch(3, 10));
        report.writeMetrics(Map.of());
        String json = Files.readString(tmp.resolve("metrics.json"));
        assertTrue(json.contains("\"data_wait_share\":0.02") || json.contains("\"data_wait_share\": 0.02"), json);
        assertTrue(json.contains("loader_images_per_second"), json);
        assertEquals(2, json.split("data_wait_seconds", -1).length - 1, "epochs 1 and 2 measured, 3 not: " + json);
        String summary = report.loaderSummary();
        assertEquals("data: 2 loader threads; the step waited 2.7 s of 20.0 s (13.5%); the loader alone 816 img/s", summary);
        assertFalse(summary.contains("NaN"));
    }
}
