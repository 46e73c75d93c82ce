package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

class ReferenceConv2dTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    private static final float[] ONE_TO_NINE = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    private static final float[] KERNEL = {1, 2, 3, 4};

    // src (1, 1, 3, 3) = 1 2 3 / 4 5 6 / 7 8 9, weights (1, 1, 2, 2) = 1 2 / 3 4, bias 0.5:
    //   dst(0, 0) = 1*1 + 2*2 + 4*3 + 5*4 = 37    dst(0, 1) = 2*1 + 3*2 + 5*3 + 6*4 = 47
    //   dst(1, 0) = 4*1 + 5*2 + 7*3 + 8*4 = 67    dst(1, 1) = 5*1 + 6*2 + 8*3 + 9*4 = 77
    @Test void forwardByHand() {
        try (TensorScope s = new TensorScope()) {
            Conv2dSpec spec = new Conv2dSpec(1, 1, 3, 3, 1, Window.square(2, 1, 0), 1, true);
            Tensor dst = s.zeros(1, 1, 2, 2);
            try (Conv2dPlan plan = backend.conv2d(spec)) {
                plan.forward(dst, s.of(ONE_TO_NINE, 1, 1, 3, 3), s.of(KERNEL, 1, 1, 2, 2), s.of(new float[] {0.5f}, 1));
            }
            assertClose("conv 2x2", new float[] {37.5f, 47.5f, 67.5f, 77.5f}, dst, 0, 0);
        }
    }

    // Padding 1, stride 2: the 5x5 padded input gives windows with top-left corners (-1,-1), (-1,1), (1,-1), (1,1):
    //   (-1,-1): src(0,0) w(1,1) = 1*4 = 4
    //   (-1, 1): src(0,1) w(1,0) + src(0,2) w(1,1) = 2*3 + 3*4 = 18
    //   ( 1,-1): src(1,0) w(0,1) + src(2,0) w(1,1) = 4*2 + 7*4 = 36
    //   ( 1, 1): 5*1 + 6*2 + 8*3 + 9*4 = 77
    // Dilation 1 (oneDNN; PyTorch's 2): the kernel spans 3x3 and reads the corners: 1*1 + 3*2 + 7*3 + 9*4 = 64.
    @Test void paddingStrideAndDilationByHand() {
        try (TensorScope s = new TensorScope()) {
            Tensor src = s.of(ONE_TO_NINE, 1, 1, 3, 3);
            Tensor weights = s.of(KERNEL, 1, 1, 2, 2);
            Tensor dst = s.zeros(1, 1, 2, 2);
            try (Conv2dPlan plan = backend.conv2d(new Conv2dSpec(1, 1, 3, 3, 1, Window.square(2, 2, 1), 1, false))) {
                plan.forward(dst, src, weights, null);
            }
            assertClose("conv pad 1 stride 2", new float[] {4, 18, 36, 77}, dst, 0, 0);

            Tensor one = s.zeros(1, 1, 1, 1);
            Window dilated = new Window(2, 2, 1, 1, 0, 0, 0, 0, 1, 1);
            try (Conv2dPlan plan = backend.conv2d(new Conv2dSpec(1, 1, 3, 3, 1, dilated, 1, false))) {
                plan.forward(one, src, weights, null);
            }
            assertClose("conv dilation 1", new float[] {64}, one, 0, 0);
        }
    }

    // Backward of the first example with diffDst = ones:
    //   diffSrc(i, j) = sum of the weights that touch (i, j):  1 3 2 / 4 10 6 / 3 7 4
    //   diffWeights(ky, kx) = sum of the 2x2 block of src at (ky, kx): 12 16 / 24 28;  diffBias = 4
    @Test void backwardByHand() {
        try (TensorScope s = new TensorScope()) {
            Conv2dSpec spec = new Conv2dSpec(1, 1, 3, 3, 1, Window.square(2, 1, 0), 1, true);
            Tensor ones = s.of(new float[] {1, 1, 1, 1}, 1, 1, 2, 2);
            Tensor diffSrc = s.zeros(1, 1, 3, 3), diffWeights = s.zeros(1, 1, 2, 2), diffBias = s.zeros(1);
            try (Conv2dPlan plan = backend.conv2d(spec)) {
                plan.backwardData(diffSrc, ones, s.of(KERNEL, 1, 1, 2, 2));
                plan.backwardWeights(diffWeights, diffBias, ones, s.of(ONE_TO_NINE, 1, 1, 3, 3));
            }
            assertClose("diffSrc", new float[] {1, 3, 2, 4, 10, 6, 3, 7, 4}, diffSrc, 0, 0);
            assertClose("diffWeights", new float[] {12, 16, 24, 28}, diffWeights, 0, 0);
            assertClose("diffBias", new float[] {4}, diffBias, 0, 0);
        }
    }

    static List<Conv2dSpec> specs() {
        return List.of(
                new Conv2dSpec(1, 1, 7, 7, 1, Window.square(3, 1, 0), 1, false),
                new Conv2dSpec(2, 3, 15, 17, 5, Window.square(5, 1, 2), 1, true),                        // LeNet-like, odd sizes
                new Conv2dSpec(2, 4, 9, 8, 6, new Window(3, 3, 2, 2, 1, 1, 0, 1, 1, 1), 2, true),       // stride 2, asym pad, dilation, groups
                new Conv2dSpec(1, 6, 11, 11, 6, new Window(3, 2, 1, 3, 2, 0, 1, 1, 0, 2), 3, true),     // non-square everything
                new Conv2dSpec(3, 2, 13, 13, 4, Window.square(11, 4, 2), 1, true));                      // AlexNet conv1 geometry
    }

    /** The reference against an independent formulation: per group, weights (OCg, ICg KH KW) times im2col columns. */
    @ParameterizedTest @MethodSource("specs")
    void forwardMatchesIm2colMatmul(Conv2dSpec spec) {
        try (TensorScope s = new TensorScope(); Conv2dPlan plan = backend.conv2d(spec)) {
            Tensor src = s.uniform(1, -1, 1, spec.srcShape());
            Tensor weights = s.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? s.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor dst = s.zeros(spec.dstShape());
            plan.forward(dst, src, weights, bias);
            float[] expected = im2colConv(spec, src.toFloatArray(), weights.toFloatArray(), bias == null ? null : bias.toFloatArray());
            assertClose("conv " + spec + " vs im2col", expected, dst, 1e-5, 1e-5);
        }
    }

    /** im2col + matrix multiply, written independently of the plan: columns (ICg KH KW, OH OW) per image and group. */
    static float[] im2colConv(Conv2dSpec spec, float[] src, float[] weights, float[] bias) {
        Window w = spec.window();
        int n = spec.batch(), ic = spec.inChannels(), ih = spec.inHeight(), iw = spec.inWidth();
        int oc = spec.outChannels(), oh = spec.outHeight(), ow = spec.outWidth(), groups = spec.groups();
        int kh = w.kernelHeight(), kw = w.kernelWidth(), icg = ic / groups, ocg = oc / groups;
        int rows = icg * kh * kw, cols = oh * ow;
        float[] dst = new float[n * oc * cols];
        for (int b = 0; b < n; b++)
            for (int g = 0; g < groups; g++) {
                double[][] column = new double[rows][cols];
                for (int c = 0; c < icg; c++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int row = (c * kh + ky) * kw + kx;
                            for (int y = 0; y < oh; y++)
                                for (int x = 0; x < ow; x++) {
                                    int sy = y * w.strideHeight() - w.padTop() + ky * (w.dilationHeight() + 1);
                                    int sx = x * w.strideWidth() - w.padLeft() + kx * (w.dilationWidth() + 1);
                                    boolean inside = sy >= 0 && sy < ih && sx >= 0 && sx < iw;
                                    column[row][y * ow + x] = inside ? src[((b * ic + g * icg + c) * ih + sy) * iw + sx] : 0;
                                }
                        }
                for (int o = 0; o < ocg; o++) {
                    int out = g * ocg + o;
                    for (int j = 0; j < cols; j++) {
                        double acc = bias == null ? 0 : bias[out];
                        for (int r = 0; r < rows; r++) acc += weights[out * rows + r] * column[r][j];
                        dst[(b * oc + out) * cols + j] = (float) acc;
                    }
                }
            }
        return dst;
    }

    /** Stride 2, asymmetric padding, groups 2, dilation 1: every backward output against central differences. */
    @Test void backwardMatchesFiniteDifferences() {
        Conv2dSpec spec = new Conv2dSpec(2, 4, 9, 8, 4, new Window(3, 3, 2, 2, 1, 1, 0, 1, 1, 1), 2, true);
        try (TensorScope s = new TensorScope(); Conv2dPlan plan = backend.conv2d(spec)) {
            Tensor src = s.uniform(11, -1, 1, spec.srcShape());
            Tensor weights = s.uniform(12, -1, 1, spec.weightsShape());
            Tensor bias = s.uniform(13, -1, 1, spec.biasShape());
            Tensor dst = s.zeros(spec.dstShape());
            float[] r = TestTensors.uniform(14, Math.toIntExact(spec.dstShape().elements()), -1, 1);
            Tensor diffDst = s.of(r, spec.dstShape());
            Tensor diffSrc = s.zeros(spec.srcShape()), diffWeights = s.zeros(spec.weightsShape()), diffBias = s.zeros(spec.biasShape());
            plan.backwardData(diffSrc, diffDst, weights);
            plan.backwardWeights(diffWeights, diffBias, diffDst, src);
            assertTrue(GradientCheck.dot(diffSrc, diffSrc.toFloatArray()) > 0, "diffSrc is all zeros");

            GradientCheck.check("conv diffSrc", src, x -> { plan.forward(dst, x, weights, bias); return GradientCheck.dot(dst, r); },
                    diffSrc.toFloatArray(), 1e-2, 1e-4, 1e-3);
            GradientCheck.check("conv diffWeights", weights, wt -> { plan.forward(dst, src, wt, bias); return GradientCheck.dot(dst, r); },
                    diffWeights.toFloatArray(), 1e-2, 1e-4, 1e-3);
            GradientCheck.check("conv diffBias", bias, b -> { plan.forward(dst, src, weights, b); return GradientCheck.dot(dst, r); },
                    diffBias.toFloatArray(), 1e-2, 1e-4, 1e-3);
        }
    }

    @Test void wrongShapesNameTheArgument() {
        Conv2dSpec spec = new Conv2dSpec(2, 3, 8, 8, 4, Window.square(3, 1, 1), 1, true);
        try (TensorScope s = new TensorScope(); Conv2dPlan plan = backend.conv2d(spec)) {
            Tensor dst = s.zeros(spec.dstShape()), weights = s.zeros(spec.weightsShape()), bias = s.zeros(4);
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, s.zeros(2, 4, 8, 8), weights, bias));
            assertTrue(e.getMessage().contains("src has shape [2, 4, 8, 8] F32, expected [2, 3, 8, 8] F32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, s.zeros(spec.srcShape()), weights, null));
            assertTrue(e.getMessage().contains("bias is null"), e.getMessage());
        }
    }
}
