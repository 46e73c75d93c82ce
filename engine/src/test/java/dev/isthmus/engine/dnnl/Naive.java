package dev.isthmus.engine.dnnl;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Naive loops over float arrays, accumulated in double: the oracle for the dnnl tests (until
 * the reference backend lands), plus seeded random tensors and a comparison that prints the
 * first values side by side.
 */
final class Naive {
    private Naive() {}

    static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    static Tensor tensor(Random r, int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        return Tensor.of(random(r, n), dims);
    }

    // ---- convolution: src (N, IC, IH, IW), weights (OC, IC/G, KH, KW), dst (N, OC, OH, OW) ----

    static float[] convForward(Conv2dSpec s, float[] src, float[] w, float[] bias) {
        Window win = s.window();
        int n = s.batch(), ic = s.inChannels(), ih = s.inHeight(), iw = s.inWidth(), oc = s.outChannels();
        int oh = s.outHeight(), ow = s.outWidth(), kh = win.kernelHeight(), kw = win.kernelWidth();
        int icg = ic / s.groups(), ocg = oc / s.groups();
        float[] dst = new float[n * oc * oh * ow];
        for (int b = 0; b < n; b++) for (int o = 0; o < oc; o++) {
            int g = o / ocg;
            for (int y = 0; y < oh; y++) for (int x = 0; x < ow; x++) {
                double sum = bias == null ? 0 : bias[o];
                for (int c = 0; c < icg; c++) for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) {
                    int iy = y * win.strideHeight() - win.padTop() + ky * (win.dilationHeight() + 1);
                    int ix = x * win.strideWidth() - win.padLeft() + kx * (win.dilationWidth() + 1);
                    if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                    sum += (double) src[((b * ic + g * icg + c) * ih + iy) * iw + ix] * w[((o * icg + c) * kh + ky) * kw + kx];
                }
                dst[((b * oc + o) * oh + y) * ow + x] = (float) sum;
            }
        }
        return dst;
    }

    static float[] convBackwardData(Conv2dSpec s, float[] diffDst, float[] w) {
        Window win = s.window();
        int n = s.batch(), ic = s.inChannels(), ih = s.inHeight(), iw = s.inWidth(), oc = s.outChannels();
        int oh = s.outHeight(), ow = s.outWidth(), kh = win.kernelHeight(), kw = win.kernelWidth();
        int icg = ic / s.groups(), ocg = oc / s.groups();
        double[] acc = new double[n * ic * ih * iw];
        for (int b = 0; b < n; b++) for (int o = 0; o < oc; o++) {
            int g = o / ocg;
            for (int y = 0; y < oh; y++) for (int x = 0; x < ow; x++) {
                double d = diffDst[((b * oc + o) * oh + y) * ow + x];
                for (int c = 0; c < icg; c++) for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) {
                    int iy = y * win.strideHeight() - win.padTop() + ky * (win.dilationHeight() + 1);
                    int ix = x * win.strideWidth() - win.padLeft() + kx * (win.dilationWidth() + 1);
                    if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                    acc[((b * ic + g * icg + c) * ih + iy) * iw + ix] += d * w[((o * icg + c) * kh + ky) * kw + kx];
                }
            }
        }
        return toFloat(acc);
    }

    /** Returns diffWeights; writes diffBias when non-null. */
    static float[] convBackwardWeights(Conv2dSpec s, float[] diffDst, float[] src, float[] diffBias) {
        Window win = s.window();
        int n = s.batch(), ic = s.inChannels(), ih = s.inHeight(), iw = s.inWidth(), oc = s.outChannels();
        int oh = s.outHeight(), ow = s.outWidth(), kh = win.kernelHeight(), kw = win.kernelWidth();
        int icg = ic / s.groups(), ocg = oc / s.groups();
        double[] dw = new double[oc * icg * kh * kw];
        double[] db = new double[oc];
        for (int b = 0; b < n; b++) for (int o = 0; o < oc; o++) {
            int g = o / ocg;
            for (int y = 0; y < oh; y++) for (int x = 0; x < ow; x++) {
                double d = diffDst[((b * oc + o) * oh + y) * ow + x];
                db[o] += d;
                for (int c = 0; c < icg; c++) for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) {
                    int iy = y * win.strideHeight() - win.padTop() + ky * (win.dilationHeight() + 1);
                    int ix = x * win.strideWidth() - win.padLeft() + kx * (win.dilationWidth() + 1);
                    if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                    dw[((o * icg + c) * kh + ky) * kw + kx] += d * src[((b * ic + g * icg + c) * ih + iy) * iw + ix];
                }
            }
        }
        if (diffBias != null) for (int o = 0; o < oc; o++) diffBias[o] = (float) db[o];
        return toFloat(dw);
    }

    // ---- pooling: src (N, C, IH, IW), dst (N, C, OH, OW) ------------------------------------

    static float[] poolForward(Pool2dSpec s, float[] src) {
        Window w = s.window();
        int planes = s.batch() * s.channels(), ih = s.inHeight(), iw = s.inWidth(), oh = s.outHeight(), ow = s.outWidth();
        float[] dst = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) for (int y = 0; y < oh; y++) for (int x = 0; x < ow; x++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            int count = 0;
            for (int ky = 0; ky < w.kernelHeight(); ky++) for (int kx = 0; kx < w.kernelWidth(); kx++) {
                int iy = y * w.strideHeight() - w.padTop() + ky, ix = x * w.strideWidth() - w.padLeft() + kx;
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                float v = src[(p * ih + iy) * iw + ix];
                max = Math.max(max, v);
                sum += v;
                count++;
            }
            dst[(p * oh + y) * ow + x] = (float) switch (s.kind()) {
                case MAX -> max;
                case AVG_INCLUDE_PADDING -> sum / (w.kernelHeight() * w.kernelWidth());
                case AVG_EXCLUDE_PADDING -> sum / count;
            };
        }
        return dst;
    }

    /** Max pooling sends each gradient to the first maximum of its window; average spreads it. */
    static float[] poolBackward(Pool2dSpec s, float[] diffDst, float[] src) {
        Window w = s.window();
        int planes = s.batch() * s.channels(), ih = s.inHeight(), iw = s.inWidth(), oh = s.outHeight(), ow = s.outWidth();
        double[] diffSrc = new double[planes * ih * iw];
        for (int p = 0; p < planes; p++) for (int y = 0; y < oh; y++) for (int x = 0; x < ow; x++) {
            double d = diffDst[(p * oh + y) * ow + x];
            int count = 0, argmax = -1;
            float max = Float.NEGATIVE_INFINITY;
            for (int ky = 0; ky < w.kernelHeight(); ky++) for (int kx = 0; kx < w.kernelWidth(); kx++) {
                int iy = y * w.strideHeight() - w.padTop() + ky, ix = x * w.strideWidth() - w.padLeft() + kx;
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                count++;
                int i = (p * ih + iy) * iw + ix;
                if (src[i] > max) { max = src[i]; argmax = i; }
            }
            int divisor = s.kind() == Pool2dSpec.Kind.AVG_INCLUDE_PADDING ? w.kernelHeight() * w.kernelWidth() : count;
            for (int ky = 0; ky < w.kernelHeight(); ky++) for (int kx = 0; kx < w.kernelWidth(); kx++) {
                int iy = y * w.strideHeight() - w.padTop() + ky, ix = x * w.strideWidth() - w.padLeft() + kx;
                if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                int i = (p * ih + iy) * iw + ix;
                if (s.kind() == Pool2dSpec.Kind.MAX) { if (i == argmax) diffSrc[i] += d; }
                else diffSrc[i] += d / divisor;
            }
        }
        return toFloat(diffSrc);
    }

    // ---- linear: src (N, IC), weights (OC, IC), dst (N, OC) ----------------------------------

    static float[] linearForward(LinearSpec s, float[] src, float[] w, float[] bias) {
        int n = s.batch(), ic = s.inFeatures(), oc = s.outFeatures();
        float[] dst = new float[n * oc];
        for (int b = 0; b < n; b++) for (int o = 0; o < oc; o++) {
            double sum = bias == null ? 0 : bias[o];
            for (int i = 0; i < ic; i++) sum += (double) src[b * ic + i] * w[o * ic + i];
            dst[b * oc + o] = (float) sum;
        }
        return dst;
    }

    static float[] linearBackwardData(LinearSpec s, float[] diffDst, float[] w) {
        int n = s.batch(), ic = s.inFeatures(), oc = s.outFeatures();
        float[] diffSrc = new float[n * ic];
        for (int b = 0; b < n; b++) for (int i = 0; i < ic; i++) {
            double sum = 0;
            for (int o = 0; o < oc; o++) sum += (double) diffDst[b * oc + o] * w[o * ic + i];
            diffSrc[b * ic + i] = (float) sum;
        }
        return diffSrc;
    }

    static float[] linearBackwardWeights(LinearSpec s, float[] diffDst, float[] src, float[] diffBias) {
        int n = s.batch(), ic = s.inFeatures(), oc = s.outFeatures();
        float[] dw = new float[oc * ic];
        for (int o = 0; o < oc; o++) {
            double db = 0;
            for (int b = 0; b < n; b++) db += diffDst[b * oc + o];
            if (diffBias != null) diffBias[o] = (float) db;
            for (int i = 0; i < ic; i++) {
                double sum = 0;
                for (int b = 0; b < n; b++) sum += (double) diffDst[b * oc + o] * src[b * ic + i];
                dw[o * ic + i] = (float) sum;
            }
        }
        return dw;
    }

    // ---- comparison ---------------------------------------------------------------------------

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /**
     * Fails unless every |actual - expected| <= relative * max|expected| + 1e-6; the message gives
     * the max difference, where it is, and the first values side by side.
     */
    static void assertClose(String what, float[] expected, float[] actual, double relative) {
        if (expected.length != actual.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        double tolerance = relative * scale + 1e-6, maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (!(d <= maxDiff)) { maxDiff = d; worst = i; }
        }
        if (maxDiff > tolerance || Double.isNaN(maxDiff)) {
            StringBuilder s = new StringBuilder(what + ": max |difference| " + maxDiff + " at " + worst
                    + " (expected " + expected[worst] + ", got " + actual[worst] + "), tolerance " + tolerance
                    + "\n  index   expected      actual");
            for (int i = 0; i < Math.min(8, expected.length); i++) {
                s.append(String.format("%n  %5d %11.6f %11.6f", i, expected[i], actual[i]));
            }
            fail(s.toString());
        }
    }

    static String head(float[] a) {
        return Arrays.toString(Arrays.copyOf(a, Math.min(6, a.length)));
    }
}
