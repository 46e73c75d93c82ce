package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.nn.data.BatchLoader;

import java.util.ArrayList;
import java.util.List;

/**
 * The learning-rate range test (Smith 2017, "Cyclical learning rates", section 3.3; fastai's
 * {@code lr_find}): train from the model's current weights while the learning rate grows
 * exponentially from {@code start} to {@code end} over {@code steps} steps, one batch a step,
 * recording each batch's loss. The loss is smoothed by an exponential moving average with bias
 * correction (beta 0.98, fastai's); the test stops early once the smoothed loss exceeds four
 * times its minimum or a loss is not finite. The suggested rate is a tenth of the rate at the
 * minimum of the smoothed loss: the minimum is where the steps already overshoot.
 *
 * <p>The explicit loop, per step: set the rate, forward, loss, zeroGrad, backward, step. The
 * model's weights are changed: compile a fresh model (or reload a checkpoint) afterwards.
 */
public final class LrFinder {
    /** Smoothing of the recorded losses. */
    public static final double BETA = 0.98;
    /** The test stops when the smoothed loss passes this multiple of its minimum. */
    public static final double STOP_FACTOR = 4;

    /**
     * What the test recorded: per step the rate, the batch's loss and the smoothed loss; the rate
     * at the smoothed minimum and the suggestion (a tenth of it); whether it stopped on divergence.
     */
    public record Result(double[] lrs, double[] losses, double[] smoothed, double minLr, double minLoss,
                         double suggested, boolean diverged, String rule) {
        public int steps() { return lrs.length; }
    }

    private LrFinder() {}

    /** The rate of step {@code i} of {@code steps}: start (end / start)^(i / (steps - 1)). */
    public static double rate(double start, double end, int i, int steps) {
        return start * Math.pow(end / start, steps == 1 ? 0 : (double) i / (steps - 1));
    }

    /**
     * Runs the test on {@code model} (compiled for training) with {@code optimizer}, cycling over
     * {@code loader}'s epochs (which must drop the last short batch) as long as it needs.
     */
    public static Result run(Sequential model, Optimizer optimizer, BatchLoader loader, double start, double end,
                             int steps, Progress progress) {
        if (!(start > 0 && end > start)) throw new IllegalArgumentException("lr range: need 0 < start < end, got " + start + " .. " + end);
        if (steps < 2) throw new IllegalArgumentException("lr range test: need at least 2 steps, got " + steps);
        int batch = model.batch();
        if (loader.batchSize() != batch) {
            throw new IllegalArgumentException("loader batch " + loader.batchSize() + " differs from the model's " + batch);
        }
        int classes = Math.toIntExact(model.outputShape().elements());
        List<double[]> rows = new ArrayList<>();   // (lr, loss, smoothed)
        double average = 0, best = Double.POSITIVE_INFINITY, bestLr = start;
        boolean diverged = false;
        model.train();
        progress.start("lr range test", steps);
        try (CrossEntropyLoss loss = new CrossEntropyLoss().compile(model.backend(), batch, classes);
             Tensor input = model.backend().allocate(model.inputShape().prepend(batch), DType.F32);
             Tensor labels = model.backend().allocate(Shape.of(batch), DType.S32)) {
            outer:
            for (int epoch = 0; ; epoch++) {
                for (BatchLoader.Batch b : loader.epoch(epoch)) {
                    if (b.size() != batch) continue;
                    int i = rows.size();
                    double lr = rate(start, end, i, steps);
                    optimizer.setLr((float) lr);
                    input.copyFromHost(b.images());
                    labels.copyFromHost(b.labels());
                    float l = loss.forward(model.forward(input), labels);
                    if (!Float.isFinite(l)) {
                        diverged = true;
                        break outer;
                    }
                    average = BETA * average + (1 - BETA) * l;
                    double smooth = average / (1 - Math.pow(BETA, i + 1));
                    rows.add(new double[] {lr, l, smooth});
                    progress.update(i + 1, (long) (i + 1) * batch, smooth);
                    if (smooth < best) {
                        best = smooth;
                        bestLr = lr;
                    }
                    if (smooth > STOP_FACTOR * best) {
                        diverged = true;
                        break outer;
                    }
                    if (rows.size() == steps) break outer;
                    optimizer.zeroGrad();
                    model.backward(loss.backward());
                    optimizer.step();
                }
                if (rows.isEmpty() && epoch > 0) throw new IllegalArgumentException("the loader gives no full batch of " + batch);
            }
        } finally {
            progress.finish();
        }
        int n = rows.size();
        double[] lrs = new double[n], losses = new double[n], smoothed = new double[n];
        for (int i = 0; i < n; i++) {
            lrs[i] = rows.get(i)[0];
            losses[i] = rows.get(i)[1];
            smoothed[i] = rows.get(i)[2];
        }
        return new Result(lrs, losses, smoothed, bestLr, best, bestLr / 10, diverged,
                "a tenth of the rate at the minimum of the smoothed loss (EMA, beta " + BETA + ")");
    }
}
