package dev.isthmus.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * A launch site's argument checks, which need no GPU: every setter is held to the size the PTX
 * declares, and a launch with an argument never set fails before it reaches the driver.
 */
class CuKernelTest {
    /** As conv_forward: four pointers and a 64-byte geometry struct. */
    private static Cu.Kernel convForward() {
        return new Cu.Kernel("conv_forward", MemorySegment.NULL, new int[] {8, 8, 8, 8, 64});
    }

    @Test void aSetterOfTheWrongSizeNamesBothSizes() {
        Cu.Kernel k = convForward();
        var e = assertThrows(IllegalStateException.class, () -> k.i32(1, 7));
        assertTrue(e.getMessage().contains("argument 1 is 8 bytes in the PTX, set with 4 bytes"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> k.ints(4, new int[12]));
        assertTrue(e.getMessage().contains("argument 4 is 64 bytes in the PTX, set with 48 bytes"), e.getMessage());
        var oob = assertThrows(IndexOutOfBoundsException.class, () -> k.pointer(5, 0));
        assertTrue(oob.getMessage().contains("takes 5 arguments"), oob.getMessage());
    }

    @Test void aLaunchWithAnArgumentNeverSetFailsBeforeTheDriver() {
        Cu.Kernel k = convForward().pointer(0, 256).pointer(1, 512).pointer(3, 0).ints(4, new int[16]);
        var e = assertThrows(IllegalStateException.class, k::launch);
        assertTrue(e.getMessage().contains("conv_forward: arguments 100 "), e.getMessage());   // bit 2: weights
    }

    @Test void gridsBeyondCudasLimitsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> convForward().grid(1, 70_000, 1, 8, 8, 1));
        assertTrue(e.getMessage().contains("exceeds CUDA's limits"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> convForward().range(1L << 40, 64));
    }
}
