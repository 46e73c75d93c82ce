package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Supplier;

/**
 * Trains a classifier: epochs of shuffled mini-batches through forward, loss, backward and
 * an optimizer step, with a progress bar, evaluation (loss, top-1 and top-5 error) of an
 * in-memory {@link ImageDataset} or of a {@link BatchLoader} (image folders, ten crops), a
 * learning-rate schedule, early stopping on validation error that keeps the best weights,
 * and a callback after each epoch (metrics files, checkpoints).
 *
 * <p>The explicit loop, per batch: copy the batch into the model's input buffers,
 * {@code model.forward}, {@code loss.forward}, {@code optimizer.zeroGrad},
 * {@code model.backward(loss.backward())}, {@code optimizer.step}. Nothing is allocated per step.
 */
public final class Trainer implements AutoCloseable {
    /** What one epoch did. Errors are fractions; NaN where not measured. */
    public record EpochStats(int epoch, double trainLoss, double trainError, double trainTop5Error,
                             double validationLoss, double validationError, double validationTop5Error,
                             double testLoss, double testError, double testTop5Error,
                             double seconds, double imagesPerSecond, float lr, boolean best) {}

    /** Called after each epoch; may write files (it runs on the training thread). */
    @FunctionalInterface
    public interface EpochListener {
        void onEpoch(EpochStats stats) throws Exception;
    }

    /**
     * Observes single training steps (for {@link Diagnostics}); runs on the training thread,
     * between the step's backward and the optimizer's update, and after the update.
     */
    public interface StepListener {
        /** After backward, before the optimizer's update: this batch's gradients and outputs, the old weights. */
        void beforeUpdate(int epoch, int step);

        /** After the optimizer's update. */
        void afterUpdate(int epoch, int step);

        /** After the last step of an epoch, before validation. */
        default void epochEnd(int epoch) {}
    }

    /**
     * @param epochs    epochs to run at most
     * @param patience  stop after this many epochs without a better validation error (0: never stop early)
     * @param schedule  the learning rate after each epoch
     * @param testEveryEpoch evaluate the test set after every epoch (for curves), else only at the end
     * @param warmupSteps the learning rate rises linearly from lr / warmupSteps to lr over the
     *                    optimizer's first warmupSteps steps (Goyal et al. 2017); 0 for none
     */
    public record Options(int epochs, int patience, LrSchedule schedule, boolean testEveryEpoch, int warmupSteps) {
        public Options {
            if (epochs <= 0) throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
            if (patience < 0) throw new IllegalArgumentException("patience must be >= 0, got " + patience);
            if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }

        /** Without warm-up. */
        public Options(int epochs, int patience, LrSchedule schedule, boolean testEveryEpoch) {
            this(epochs, patience, schedule, testEveryEpoch, 0);
        }
    }

    private final Sequential model;
    private final CrossEntropyLoss loss;
    private final Optimizer optimizer;
    private final Progress progress;
    private final int batch;
    private final int classes;
    private final Tensor input;     // (N, C, H, W) on the model's device
    private final Tensor labels;    // (N) int32 on the model's device
    private final Arena stagingArena = Arena.ofShared();
    private final MemorySegment stagingImages;   // host copy of one batch, for devices and evaluation
    private final MemorySegment stagingLabels;
    private float[] bestWeights;
    private int warmupSteps;        // from the Options of fit
    private DataParallel parallel;  // null: this process trains alone
    private StepListener stepListener;   // null: none

    public Trainer(Sequential model, Optimizer optimizer, Progress progress) {
        this.model = model;
        this.optimizer = optimizer;
        this.progress = progress;
        this.batch = model.batch();
        Shape out = model.outputShape();
        if (out.rank() != 1) throw new IllegalArgumentException("a classifier's output must be (classes), got " + out);
        this.classes = out.dim(0);
        this.loss = new CrossEntropyLoss().compile(model.backend(), batch, classes);
        Shape in = model.inputShape().prepend(batch);
        this.input = model.backend().allocate(in, DType.F32);
        this.labels = model.backend().allocate(Shape.of(batch), DType.S32);
        this.stagingImages = stagingArena.allocate(in.elements() * Float.BYTES, 64);
        this.stagingLabels = stagingArena.allocate((long) batch * Integer.BYTES, 64);
    }

    /** Observes every step from now on (null: none); {@link Diagnostics} is one. */
    public void setStepListener(StepListener listener) { this.stepListener = listener; }

    /**
     * Trains as one rank of a data-parallel job (null: alone): gradients are averaged across
     * ranks during backward, evaluation of an {@link ImageDataset} is sharded and reduced, the
     * best-epoch and early-stopping decisions are rank 0's, the epoch listener runs on rank 0
     * only, and the weights are compared across ranks after every epoch. The loader given to
     * {@link #fit} must be this rank's shard (BatchLoader's rank constructor).
     */
    public Trainer dataParallel(DataParallel parallel) {
        this.parallel = parallel;
        return this;
    }

    /**
     * One epoch of training over {@code loader} (which must drop the last short batch). Returns
     * {loss, top-1 error, top-5 error} of the training-mode forwards (errors NaN on devices).
     */
    public double[] trainEpoch(BatchLoader loader, int epoch, int epochs) {
        if (loader.batchSize() != batch) {
            throw new IllegalArgumentException("loader batch " + loader.batchSize() + " differs from the model's " + batch);
        }
        model.train();
        int total = loader.batchesPerEpoch();
        progress.start(String.format("epoch %d/%d", epoch, epochs), total);
        double lossSum = 0;
        long wrong = 0, wrong5 = 0, seen = 0;
        int done = 0;
        float target = optimizer.lr();
        for (BatchLoader.Batch b : loader.epoch(epoch - 1)) {
            if (b.views() != 1) throw new IllegalArgumentException("a training loader gives one view per sample, got " + b.views());
            if (b.size() != batch) continue;   // a short last batch: the plans are for full batches
            input.copyFromHost(b.images());
            labels.copyFromHost(b.labels());
            Tensor logits = model.forward(input);
            float l = loss.forward(logits, labels);
            if (!Float.isFinite(l)) throw new TrainingDivergedException(epoch, done + 1, l);
            optimizer.zeroGrad();
            Tensor diffLogits = loss.backward();
            if (parallel != null) parallel.beforeBackward(diffLogits);
            model.backward(diffLogits);
            if (parallel != null) parallel.afterBackward();
            if (stepListener != null) stepListener.beforeUpdate(epoch, done);
            long step = optimizer.steps();
            if (step < warmupSteps) optimizer.setLr(target * (step + 1) / warmupSteps);
            else if (step == warmupSteps) optimizer.setLr(target);
            optimizer.step();
            if (stepListener != null) stepListener.afterUpdate(epoch, done);
            lossSum += l;
            long w = countWrong(logits, b.labels());
            wrong += w & 0xFFFF_FFFFL;
            wrong5 += w >>> 32;
            seen += batch;
            done++;
            progress.update(done, seen, lossSum / done);
        }
        progress.finish();
        if (stepListener != null) stepListener.epochEnd(epoch);
        optimizer.setLr(target);
        boolean host = model.backend().device().isHost();
        return new double[] {lossSum / Math.max(1, done),
                seen == 0 || !host ? Double.NaN : (double) wrong / seen,
                seen == 0 || !host ? Double.NaN : (double) wrong5 / seen};
    }

    /**
     * Top-1 and top-5 mistakes in a batch, read straight from host logits (no copy), packed as
     * top5 << 32 | top1 so that nothing is allocated; 0 on devices. Ties rank as in {@link Metrics}.
     */
    private long countWrong(Tensor logits, MemorySegment labelSegment) {
        if (!logits.device().isHost()) return 0;
        MemorySegment s = logits.segment();
        long wrong = 0, wrong5 = 0;
        for (int n = 0; n < batch; n++) {
            int label = labelSegment.getAtIndex(ValueLayout.JAVA_INT, n);
            float truth = s.getAtIndex(ValueLayout.JAVA_FLOAT, (long) n * classes + label);
            int higher = 0;   // classes ranked above the true one
            for (int k = 0; k < classes; k++) {
                float v = s.getAtIndex(ValueLayout.JAVA_FLOAT, (long) n * classes + k);
                if (v > truth || (v == truth && k < label)) higher++;
            }
            if (higher >= 1) wrong++;
            if (higher >= 5) wrong5++;
        }
        return wrong5 << 32 | wrong;
    }

    /**
     * Evaluates the model on {@code data[indices]} in inference mode, in order. The last batch is
     * padded with zeros and its padding ignored, so every sample counts exactly once.
     */
    public Metrics evaluate(ImageDataset data, int[] indices) {
        if (indices.length == 0) throw new IllegalArgumentException("cannot evaluate on an empty set (0 of " + data.count() + " images)");
        if (parallel == null || parallel.size() == 1) return evaluateHere(data, indices);
        int from = parallel.shardStart(indices.length), to = parallel.shardEnd(indices.length);
        Metrics mine = evaluateHere(data, java.util.Arrays.copyOfRange(indices, from, to));
        return parallel.reduce(mine, classes, from, indices.length);
    }

    private Metrics evaluateHere(ImageDataset data, int[] indices) {
        boolean wasTraining = model.isTraining();
        model.eval();
        Metrics metrics = new Metrics(classes, indices.length);
        long imageBytes = data.imageBytes();
        float[] logits = null;
        for (int start = 0; start < indices.length; start += batch) {
            int n = Math.min(batch, indices.length - start);
            if (n < batch) stagingImages.fill((byte) 0);
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(data.image(indices[start + i]), 0, stagingImages, i * imageBytes, imageBytes);
            }
            input.copyFromHost(stagingImages);
            Tensor out = model.forward(input);
            logits = copyLogits(out, logits);
            for (int i = 0; i < n; i++) metrics.add(logits, i * classes, data.label(indices[start + i]));
        }
        if (wasTraining) model.train();
        return metrics;
    }

    /**
     * Evaluates the model in inference mode on one pass over {@code loader} (for example an
     * {@link dev.isthmus.nn.data.ImageFolder#loader} of centre crops, not shuffled, keeping its
     * short last batch); loader batches need not match the model's batch. When a sample has
     * V > 1 views (ten crops) its prediction is the average of the V softmax distributions, as
     * in Krizhevsky et al. 2012; Metrics then sees log of that average, so its loss is the
     * cross-entropy of the averaged distribution.
     */
    public Metrics evaluate(BatchLoader loader) {
        boolean wasTraining = model.isTraining();
        model.eval();
        long imageBytes = model.inputShape().elements() * Float.BYTES;
        Metrics metrics = new Metrics(classes, loader.batchesPerEpoch() * loader.batchSize());
        float[] all = null;                         // (B*V, K) logits of one loader batch
        float[] logits = null;                      // (N, K) of one forward
        float[] averaged = new float[classes];      // (K) log of the mean softmax over views
        double[] probs = new double[classes];
        for (BatchLoader.Batch b : loader.epoch(0)) {
            int views = b.views(), images = b.size() * views;
            if (b.images().byteSize() != images * imageBytes) {
                throw new IllegalArgumentException("loader images of " + b.images().byteSize() / Math.max(1, images)
                        + " bytes each do not fit the model's input " + model.inputShape() + " (" + imageBytes + " bytes)");
            }
            if (all == null) all = new float[loader.batchSize() * views * classes];
            for (int start = 0; start < images; start += batch) {
                int n = Math.min(batch, images - start);
                if (n < batch) stagingImages.fill((byte) 0);
                MemorySegment.copy(b.images(), start * imageBytes, stagingImages, 0, n * imageBytes);
                input.copyFromHost(stagingImages);
                logits = copyLogits(model.forward(input), logits);
                System.arraycopy(logits, 0, all, start * classes, n * classes);
            }
            for (int j = 0; j < b.size(); j++) {
                if (views == 1) {
                    metrics.add(all, j * classes, b.label(j));
                    continue;
                }
                java.util.Arrays.fill(probs, 0);
                for (int v = 0; v < views; v++) {
                    int row = (j * views + v) * classes;
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int k = 0; k < classes; k++) max = Math.max(max, all[row + k]);
                    for (int k = 0; k < classes; k++) sum += Math.exp(all[row + k] - max);
                    for (int k = 0; k < classes; k++) probs[k] += Math.exp(all[row + k] - max) / sum / views;
                }
                for (int k = 0; k < classes; k++) averaged[k] = (float) Math.log(Math.max(probs[k], Double.MIN_NORMAL));
                metrics.add(averaged, 0, b.label(j));
            }
        }
        if (wasTraining) model.train();
        return metrics;
    }

    private static float[] copyLogits(Tensor out, float[] reuse) {
        if (!out.device().isHost()) return out.toFloatArray();
        float[] a = reuse != null ? reuse : new float[Math.toIntExact(out.elements())];
        MemorySegment.copy(out.segment(), ValueLayout.JAVA_FLOAT, 0, a, 0, a.length);
        return a;
    }

    /**
     * Trains for up to {@code options.epochs()} epochs, starting after {@code startEpoch}
     * (0 for a fresh run, the checkpoint's epoch when resuming). Evaluates the validation
     * indices after each epoch (if any), adapts the learning rate, stops early when the
     * validation error has not improved for {@code patience} epochs and then restores the best
     * weights. Returns the statistics of every epoch run.
     */
    public java.util.List<EpochStats> fit(BatchLoader trainLoader, ImageDataset trainData, int[] validation,
                                          ImageDataset test, Options options, int startEpoch,
                                          EpochListener listener) throws Exception {
        if (test != null && test.count() == 0) throw new IllegalArgumentException("the test set is empty (0 images): no test error to measure");
        return fit(trainLoader, validation.length > 0 ? () -> evaluate(trainData, validation) : null,
                test != null ? () -> evaluate(test, test.indices()) : null, options, startEpoch, listener);
    }

    /**
     * {@link #fit(BatchLoader, ImageDataset, int[], ImageDataset, Options, int, EpochListener)} with
     * the evaluations given as functions (null: none), for data that is not an {@link ImageDataset}:
     * {@code () -> trainer.evaluate(validationLoader)} over an image folder's centre crops.
     */
    public java.util.List<EpochStats> fit(BatchLoader trainLoader, Supplier<Metrics> validation,
                                          Supplier<Metrics> test, Options options, int startEpoch,
                                          EpochListener listener) throws Exception {
        if (trainLoader.batchesPerEpoch() == 0) {   // else the epoch runs no step and reports a loss of 0
            throw new IllegalArgumentException("the training set has " + trainLoader.order(0).length + " images, fewer than one batch of "
                    + trainLoader.batchSize() + ": no training step would run; give a smaller --batch or more data");
        }
        var history = new java.util.ArrayList<EpochStats>();
        double bestError = Double.POSITIVE_INFINITY;
        int sinceBest = 0;
        warmupSteps = options.warmupSteps();
        for (int epoch = startEpoch + 1; epoch <= options.epochs(); epoch++) {
            long t0 = System.nanoTime();
            float lr = optimizer.lr();
            double[] train = trainEpoch(trainLoader, epoch, options.epochs());
            if (parallel != null) train = parallel.average(train);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Metrics val = validation != null ? validation.get() : null;
            boolean last = epoch == options.epochs();
            Metrics tst = test != null && (options.testEveryEpoch() || last) ? test.get() : null;
            double valError = val == null ? Double.NaN : val.top1Error();
            boolean best = val != null && valError < bestError;
            if (parallel != null) best = parallel.agree(best);
            if (best) {
                bestError = valError;
                sinceBest = 0;
                if (options.patience() > 0) bestWeights = model.parameters().values().toFloatArray();
            } else {
                sinceBest++;
            }
            long images = (long) trainLoader.batchesPerEpoch() * batch * (parallel == null ? 1 : parallel.size());
            var stats = new EpochStats(epoch, train[0], train[1], train[2],
                    val == null ? Double.NaN : val.loss(), valError, val == null ? Double.NaN : val.top5Error(),
                    tst == null ? Double.NaN : tst.loss(), tst == null ? Double.NaN : tst.top1Error(),
                    tst == null ? Double.NaN : tst.top5Error(),
                    seconds, images / seconds, lr, best);
            history.add(stats);
            optimizer.setLr(options.schedule().next(epoch, lr, valError));
            boolean stop = options.patience() > 0 && sinceBest >= options.patience();
            if (parallel != null) {
                stop = parallel.agree(stop);
                parallel.checkWeights(epoch);
            }
            if (stop && bestWeights != null) model.parameters().values().copyFrom(bestWeights);
            if (listener != null && (parallel == null || parallel.isRoot())) listener.onEpoch(stats);
            if (stop) break;
        }
        return history;
    }

    /** The best validation weights seen, restored into the model (no-op when early stopping is off). */
    public boolean restoreBest() {
        if (bestWeights == null) return false;
        model.parameters().values().copyFrom(bestWeights);
        return true;
    }

    public CrossEntropyLoss loss() { return loss; }

    @Override public void close() {
        loss.close();
        input.close();
        labels.close();
        stagingArena.close();
    }
}
