// Metrics summed across ranks (DataParallel.reduce): the packs of two shards of an evaluation add
// up to the pack of the whole, so the reduced metrics equal those of one process in every count,
// the loss to rounding, and every prediction in order.
package dev.isthmus.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MetricsPackTest {
    @Test
    void twoShardsAddUpToTheWholeEvaluation() {
        int classes = 7, n = 101, split = 50;
        float[] logits = new float[n * classes];
        int[] labels = new int[n];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(classes);
        Metrics whole = new Metrics(classes, n), first = new Metrics(classes, split), second = new Metrics(classes, n - split);
        for (int i = 0; i < n; i++) {
            whole.add(logits, i * classes, labels[i]);
            (i < split ? first : second).add(logits, i * classes, labels[i]);
        }
        double[] a = first.pack(0, n), b = second.pack(split, n);
        for (int i = 0; i < a.length; i++) a[i] += b[i];
        Metrics sum = Metrics.unpack(classes, a);
        assertEquals(whole.count(), sum.count());
        assertEquals(whole.top1Wrong(), sum.top1Wrong());
        assertEquals(whole.top5Error(), sum.top5Error());
        assertEquals(whole.loss(), sum.loss(), 1e-12);
        for (int t = 0; t < classes; t++) assertArrayEquals(whole.confusion()[t], sum.confusion()[t]);
        for (int i = 0; i < n; i++) assertEquals(whole.prediction(i), sum.prediction(i), "prediction " + i);
    }
}
