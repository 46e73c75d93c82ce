package dev.isthmus.engine.simd;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;

import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorAssert;
import dev.isthmus.engine.testing.TensorScope;
import org.junit.jupiter.api.Test;

/** The Vector API kernel against its scalar twin at awkward sizes: every tail, with and without accumulation. */
class GemvTest {
    @Test void vectorMatchesScalarTwin() {
        int[] ins = {1, 15, 16, 17, 33, 1023};
        int[] outs = {1, 3, 4, 5, 9};
        for (int n = 1; n <= Gemv.MAX_ROWS; n++) {
            for (int in : ins) {
                for (int out : outs) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        check(n, in, out, accumulate);
                    }
                }
            }
        }
    }

    /** A row range that starts past 0 and ends before out: the rows outside it stay as they were. */
    @Test void writesOnlyItsRows() {
        try (TensorScope scope = new TensorScope()) {
            int n = 2, in = 40, out = 13;
            Tensor x = scope.uniform(1, -1, 1, n, in), w = scope.uniform(2, -1, 1, out, in);
            Tensor vector = scope.uniform(3, -1, 1, n, out), scalar = scope.uniform(3, -1, 1, n, out);
            Gemv.rowsVector(x.segment(), w.segment(), vector.segment(), n, in, out, 4, 9, false);
            Gemv.rowsScalar(x.segment(), w.segment(), scalar.segment(), n, in, out, 4, 9, false);
            assertClose("rows 4..9 of 13", scalar, vector, 1e-5, 1e-5);
        }
    }

    /**
     * The first call runs interpreted, later ones compiled by C2: the bits must not change (they did
     * while the lanes were summed with reduceLanes, whose order the JIT's intrinsic chooses).
     */
    @Test void repeatsItselfBitForBitAfterCompilation() {
        try (TensorScope scope = new TensorScope()) {
            int n = 1, in = 100, out = 9;
            Tensor x = scope.uniform(1, -1, 1, n, in), w = scope.uniform(2, -1, 1, out, in);
            Tensor first = scope.zeros(n, out), again = scope.zeros(n, out);
            Gemv.rowsVector(x.segment(), w.segment(), first.segment(), n, in, out, 0, out, false);
            for (int call = 0; call < 30_000; call++) {
                Gemv.rowsVector(x.segment(), w.segment(), again.segment(), n, in, out, 0, out, false);
            }
            TensorAssert.assertBitwise("call 1 vs call 30,001", first, again);
        }
    }

    private static void check(int n, int in, int out, boolean accumulate) {
        try (TensorScope scope = new TensorScope()) {
            Tensor x = scope.uniform(1, -1, 1, n, in), w = scope.uniform(2, -1, 1, out, in);
            Tensor vector = scope.uniform(3, -1, 1, n, out), scalar = scope.uniform(3, -1, 1, n, out);
            Gemv.rowsVector(x.segment(), w.segment(), vector.segment(), n, in, out, 0, out, accumulate);
            Gemv.rowsScalar(x.segment(), w.segment(), scalar.segment(), n, in, out, 0, out, accumulate);
            assertClose("n " + n + " in " + in + " out " + out + (accumulate ? " accumulate" : ""), scalar, vector,
                    1e-6 * in + 1e-6, 1e-5);
        }
    }
}
