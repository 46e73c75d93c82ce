package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AlexNet's two layouts: every shape, the parameter count, the FLOPs, the initialisation. */
class AlexNetTest {

    @Test
    void paperShapesAtEveryLayer() {
        Sequential model = AlexNet.paper(1000);
        List<Shape> shapes = model.inferShapes(Shape.of(3, 227, 227));
        List<String> names = model.layers().stream().map(Layer::name).toList();
        assertEquals(List.of("conv1", "relu1", "norm1", "pool1", "conv2", "relu2", "norm2", "pool2",
                "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5",
                "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"), names);
        assertEquals("[[96, 55, 55], [96, 55, 55], [96, 55, 55], [96, 27, 27], "
                + "[256, 27, 27], [256, 27, 27], [256, 27, 27], [256, 13, 13], "
                + "[384, 13, 13], [384, 13, 13], [384, 13, 13], [384, 13, 13], [256, 13, 13], [256, 13, 13], "
                + "[256, 6, 6], [4096], [4096], [4096], [4096], [4096], [4096], [1000]]", shapes.toString());
        // The sides the paper's figure 2 gives after conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5.
        int[] sides = {55, 27, 27, 13, 13, 13, 13, 6};
        String[] after = {"conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"};
        for (int i = 0; i < sides.length; i++) {
            Shape s = shapes.get(model.indexOf(after[i]));
            assertEquals(sides[i], s.dim(1), after[i]);
            assertEquals(sides[i], s.dim(2), after[i]);
        }
    }

    @Test
    void paperHasSixtyMillionParameters() {
        ModelSummary summary = ModelSummary.of(AlexNet.paper(1000), Shape.of(3, 227, 227));
        assertEquals(60_965_224L, summary.parameters());
        long conv1 = 96 * 3 * 11 * 11 + 96, conv2 = 256 * 48 * 5 * 5 + 256, conv3 = 384 * 256 * 9 + 384,
                conv4 = 384 * 192 * 9 + 384, conv5 = 256 * 192 * 9 + 256,
                fc6 = 9216L * 4096 + 4096, fc7 = 4096L * 4096 + 4096, fc8 = 4096L * 1000 + 1000;
        assertEquals(conv1 + conv2 + conv3 + conv4 + conv5 + fc6 + fc7 + fc8, summary.parameters());
        var byName = summary.rows().stream().collect(java.util.stream.Collectors.toMap(ModelSummary.Row::name, r -> r));
        assertEquals(conv2, byName.get("conv2").parameters(), "two groups halve conv2's weights");
        assertEquals(0, byName.get("norm1").parameters());
        // conv1: 2 * 96 * 55 * 55 * (3 * 11 * 11); conv2 with two groups sees 48 input channels.
        assertEquals(2L * 96 * 55 * 55 * 3 * 121, byName.get("conv1").flops());
        assertEquals(2L * 256 * 27 * 27 * 48 * 25, byName.get("conv2").flops());
        assertEquals(2L * 9216 * 4096, byName.get("fc6").flops());
        assertEquals(0, byName.get("pool1").flops());
        assertTrue(summary.flops() > 1.4e9 && summary.flops() < 1.5e9, "about 1.45 GFLOPs: " + summary.flops());
    }

    @Test
    void modernMatchesTorchvision() {
        Sequential model = AlexNet.modern(1000);
        List<Shape> shapes = model.inferShapes(Shape.of(3, 224, 224));
        assertEquals(Shape.of(64, 55, 55), shapes.get(model.indexOf("features.0")));
        assertEquals(Shape.of(192, 27, 27), shapes.get(model.indexOf("features.3")));
        assertEquals(Shape.of(256, 6, 6), shapes.get(model.indexOf("features.12")));
        assertEquals(Shape.of(1000), shapes.getLast());
        assertEquals(61_100_840L, ModelSummary.of(model, Shape.of(3, 224, 224)).parameters(), "torchvision's count");
        assertEquals(model.indexOf("classifier.5"), AlexNet.featureLayer(model));
        assertEquals(AlexNet.paper(10).indexOf("relu7"), AlexNet.featureLayer(AlexNet.paper(10)));
    }

    @Test
    void wrongInputSizeNamesTheLayerThatCannotTakeIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> AlexNet.paper(1000).inferShapes(Shape.of(3, 224, 224)));
        assertTrue(e.getMessage().startsWith("layer 'fc6' (Linear(9216->4096)) cannot take input [256, 5, 5]"), e.getMessage());
        var channels = assertThrows(IllegalArgumentException.class, () -> AlexNet.paper(10).inferShapes(Shape.of(1, 227, 227)));
        assertTrue(channels.getMessage().contains("layer 'conv1'") && channels.getMessage().contains("input has 1 channels, expected 3"),
                channels.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AlexNet.paper(1));
    }

    @Test
    void paperInitialisationIsGaussianWithBiasesOfOne() {
        try (Backend backend = new ReferenceBackend(); Sequential model = AlexNet.paper(10)) {
            model.compile(backend, 1, Shape.of(3, 227, 227), Sequential.Mode.INFERENCE, 2012);
            for (String layer : List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")) {
                float[] w = model.parameters().get(layer + ".weight").value().toFloatArray();
                double sum = 0, squares = 0;
                for (float v : w) {
                    sum += v;
                    squares += (double) v * v;
                }
                double mean = sum / w.length, std = Math.sqrt(squares / w.length - mean * mean);
                assertEquals(0.01, std, 0.01 * 5 / Math.sqrt(w.length) + 1e-4, layer + " weight std");
                assertEquals(0, mean, 0.01 * 5 / Math.sqrt(w.length), layer + " weight mean");
                float expectedBias = List.of("conv2", "conv4", "conv5", "fc6", "fc7").contains(layer) ? 1f : 0f;
                for (float b : model.parameters().get(layer + ".bias").value().toFloatArray()) {
                    assertEquals(expectedBias, b, 0f, layer + " bias");
                }
            }
        }
    }

    @Test
    void summaryTableListsEveryLayerAndTheTotals() {
        String table = ModelSummary.of(AlexNet.paper(1000), Shape.of(3, 227, 227)).table();
        assertTrue(table.lines().anyMatch(l -> l.startsWith("conv2 ") && l.contains("Conv2d(96->256, k=5, p=2, groups=2)")
                && l.contains("[256, 27, 27]") && l.contains("307,456")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("total ") && l.contains("60,965,224")), table);
        assertEquals(2 + 22 + 2, table.lines().count(), table);
        assertEquals(61_706L, ModelSummary.of(LeNet5.classic(), Shape.of(1, 32, 32)).parameters(), "LeNet-5 uses it too");
    }
}
