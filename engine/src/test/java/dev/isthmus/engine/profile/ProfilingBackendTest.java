package dev.isthmus.engine.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.engine.testing.TestTensors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The profiling decorator: results unchanged, one row per (layer, pass) with its calls, and JFR events only when recorded. */
class ProfilingBackendTest {
    /** LeNet's C3 at batch 3, with its scaled tanh fused. */
    private static final Conv2dSpec SPEC = new Conv2dSpec(3, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true)
            .withActivation(EltwiseKind.SCALED_TANH);

    @Test void profiledPlansGiveThePlainPlansBitsAndCountEveryCall() {
        try (SimdBackend plain = new SimdBackend(2);
             ProfilingBackend profiled = new ProfilingBackend(new SimdBackend(2));
             Conv2dPlan a = plain.conv2d(SPEC);
             Conv2dPlan b = profiled.forLayer("c3").conv2d(SPEC);
             Tensor src = TestTensors.uniform(1, -1f, 1f, 3, 6, 14, 14);
             Tensor w = TestTensors.uniform(2, -0.2f, 0.2f, 16, 6, 5, 5);
             Tensor bias = TestTensors.uniform(3, -0.1f, 0.1f, 16);
             Tensor dstA = Tensor.allocate(SPEC.dstShape(), dev.isthmus.engine.DType.F32);
             Tensor dstB = Tensor.allocate(SPEC.dstShape(), dev.isthmus.engine.DType.F32)) {
            for (int i = 0; i < 3; i++) {
                a.forward(dstA, src, w, bias);
                b.forward(dstB, src, w, bias);
            }
            assertArrayEquals(dstA.toFloatArray(), dstB.toFloatArray(), "the profiled plan must compute the same bits");
            List<OpProfile.Row> rows = profiled.profile().rows();
            assertEquals(1, rows.size(), "only the pass that ran has a row: " + rows);
            OpProfile.Row r = rows.getFirst();
            assertEquals(List.of("c3", "conv2d", "forward", "simd", 3L), List.of(r.layer, r.op, r.pass, r.backend, r.calls()));
            assertEquals(SPEC.flops(), r.flopsPerCall);
            assertEquals(dstB.byteSize() + src.byteSize() + w.byteSize() + bias.byteSize(), r.bytesPerCall());
            assertTrue(r.nanos() > 0, "time was measured");
            profiled.profile().reset();
            assertEquals(List.of(), profiled.profile().rows(), "reset zeroes every row");
        }
    }

    @Test void rowsComeInTheOrderTheyFirstRanWithTheLayerTheyWereMadeFor() {
        try (ProfilingBackend profiled = new ProfilingBackend(new SimdBackend(1));
             EltwisePlan first = profiled.forLayer("later").eltwise(EltwiseKind.RELU, 5);
             EltwisePlan second = profiled.forLayer("earlier").eltwise(EltwiseKind.TANH, 5);
             Tensor x = Tensor.of(new float[] {-2, -1, 0, 1, 2}, 5)) {
            second.forward(x, x);
            first.forward(x, x);
            second.backward(x, x, x);
            profiled.fill(x, 0f);
            List<String> seen = new ArrayList<>();
            for (OpProfile.Row r : profiled.profile().rows()) seen.add(r.layer + " " + r.op + " " + r.pass + " " + r.calls());
            assertEquals(List.of("earlier eltwise forward 1", "later eltwise forward 1", "earlier eltwise backward 1", " fill forward 1"), seen);
        }
    }

    @Test void jfrEventsCarryOpLayerPassBackendAndShapeOnlyWhileRecorded(@TempDir Path dir) throws Exception {
        try (ProfilingBackend profiled = new ProfilingBackend(new SimdBackend(1));
             EltwisePlan plan = profiled.forLayer("c1_act").eltwise(EltwiseKind.SCALED_TANH, 17);
             Tensor x = TestTensors.uniform(4, -1f, 1f, 17)) {
            plan.forward(x, x);                                   // before any recording: no event anywhere
            Path file = dir.resolve("plans.jfr");
            try (Recording r = new Recording()) {
                r.enable(PlanExecutionEvent.NAME);
                r.start();
                for (int i = 0; i < 4; i++) plan.forward(x, x);
                plan.backward(x, x, x);
                r.stop();
                r.dump(file);
            }
            plan.forward(x, x);                                   // after it: none either
            List<RecordedEvent> events = new ArrayList<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getEventType().getName().equals(PlanExecutionEvent.NAME)) events.add(e);
            }
            assertEquals(5, events.size(), "one event per execution inside the recording");
            RecordedEvent e = events.getFirst();
            assertEquals(List.of("eltwise", "c1_act", "forward", "simd", "eltwise(scaled_tanh, 17)"),
                    List.of(e.getString("op"), e.getString("layer"), e.getString("pass"), e.getString("backend"), e.getString("shape")));
            assertEquals(2 * x.byteSize(), e.getLong("bytes"));
            assertTrue(!e.getDuration().isNegative(), "a duration");
            assertEquals("backward", events.getLast().getString("pass"));
        }
    }

    @Test void otherBackendsIgnoreLayerLabels() {
        try (Backend simd = new SimdBackend(1)) {
            assertSame(simd, simd.forLayer("c1"));
        }
    }

    @Test void aLayerViewDoesNotCloseTheWrappedBackend() {
        try (ProfilingBackend profiled = new ProfilingBackend(new SimdBackend(1))) {
            profiled.forLayer("c1").close();
            try (Tensor t = profiled.allocate(Shape.of(3), dev.isthmus.engine.DType.F32)) {
                profiled.fill(t, 1f);   // the team is still open
                assertArrayEquals(new float[] {1, 1, 1}, t.toFloatArray());
            }
        }
    }

    @Test void wrappingTwiceOrABadPropertyIsRefused() {
        try (ProfilingBackend profiled = new ProfilingBackend(new SimdBackend(1))) {
            assertThrows(IllegalArgumentException.class, () -> new ProfilingBackend(profiled));
        }
        String before = System.getProperty(ProfilingBackend.PROPERTY);
        try {
            System.setProperty(ProfilingBackend.PROPERTY, "yes");
            var e = assertThrows(IllegalArgumentException.class, () -> ProfilingBackend.wrapIfRequested(new SimdBackend(1)));
            assertTrue(e.getMessage().contains("'jfr'"), e.getMessage());
            System.setProperty(ProfilingBackend.PROPERTY, "jfr");
            try (Backend b = ProfilingBackend.wrapIfRequested(new SimdBackend(1))) {
                assertTrue(b instanceof ProfilingBackend);
            }
        } finally {
            if (before == null) System.clearProperty(ProfilingBackend.PROPERTY); else System.setProperty(ProfilingBackend.PROPERTY, before);
        }
    }

}
