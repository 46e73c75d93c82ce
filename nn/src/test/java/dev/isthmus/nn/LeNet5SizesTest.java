package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** LeNet-5's layer widths as parameters: the defaults build today's network exactly, other widths the shapes they say. */
class LeNet5SizesTest {
    private static final Shape INPUT = Shape.of(1, 32, 32);

    @Test
    void defaultSizesAreTheClassicNetworkBitForBit() {
        try (Backend backend = new ReferenceBackend();
             Sequential a = LeNet5.classic(); Sequential b = LeNet5.classic(new LeNet5.Sizes(6, 16, 120, 84))) {
            a.compile(backend, 3, INPUT, Sequential.Mode.INFERENCE, 11);
            b.compile(backend, 3, INPUT, Sequential.Mode.INFERENCE, 11);
            assertEquals(61_706, a.parameters().count(), "LeNet-5's parameter count");
            assertEquals(a.outputShapes(), b.outputShapes());
            assertEquals(a.layers().stream().map(Layer::name).toList(), b.layers().stream().map(Layer::name).toList());
            assertArrayEquals(a.parameters().values().toFloatArray(), b.parameters().values().toFloatArray());
        }
    }

    @Test
    void widerLayersHaveTheirShapesAndParameters() {
        var sizes = new LeNet5.Sizes(8, 32, 100, 120);
        List<Shape> shapes = LeNet5.relu(sizes).inferShapes(INPUT);
        assertEquals(Shape.of(8, 28, 28), shapes.get(0));
        assertEquals(Shape.of(32, 10, 10), shapes.get(3));
        assertEquals(Shape.of(100, 1, 1), shapes.get(6));
        assertEquals(Shape.of(120), shapes.get(8));
        long expected = (8 * 25 + 8) + (32 * 8 * 25 + 32) + (100 * 32 * 25 + 100) + (120 * 100 + 120) + (10 * 120 + 10);
        try (Backend backend = new ReferenceBackend(); Sequential m = LeNet5.classic(sizes)) {
            m.compile(backend, 2, INPUT, Sequential.Mode.INFERENCE, 1);
            assertEquals(expected, m.parameters().count());
        }
    }

    @Test
    void textRoundTripsAndBadSizesAreNamed() {
        assertEquals(LeNet5.Sizes.DEFAULT, LeNet5.Sizes.parse(LeNet5.Sizes.DEFAULT.text()));
        var e = assertThrows(IllegalArgumentException.class, () -> new LeNet5.Sizes(6, 0, 120, 84));
        assertEquals("LeNet-5 sizes must be >= 1, got c1=6 c3=0 c5=120 f6=84", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LeNet5.Sizes.parse("6,16"));
    }
}
