package dev.isthmus.nn;

/**
 * Accumulates classification metrics from rows of logits: mean cross-entropy loss,
 * top-1 and top-5 error, the confusion matrix and every prediction (for pictures of the
 * misclassified samples). Computed on the host in double precision.
 */
public final class Metrics {
    private final int classes;
    private final long[][] confusion;   // [true][predicted]
    private final int[] predictions;
    private int count;
    private int top1Wrong, top5Wrong;
    private double lossSum;

    /** {@code capacity}: the most samples that will be added (for the predictions array). */
    public Metrics(int classes, int capacity) {
        if (classes < 2) throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        this.classes = classes;
        this.confusion = new long[classes][classes];
        this.predictions = new int[capacity];
    }

    /** Adds one sample: {@code logits[offset .. offset + classes)} against {@code label}. */
    public void add(float[] logits, int offset, int label) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " of sample " + count + " is outside [0, " + classes + ")");
        }
        double max = Double.NEGATIVE_INFINITY;
        int argmax = 0;
        for (int k = 0; k < classes; k++) {
            if (logits[offset + k] > max) {
                max = logits[offset + k];
                argmax = k;
            }
        }
        double sum = 0;
        int higher = 0;   // classes ranked strictly above the true one
        float truth = logits[offset + label];
        for (int k = 0; k < classes; k++) {
            sum += Math.exp(logits[offset + k] - max);
            if (logits[offset + k] > truth || (logits[offset + k] == truth && k < label)) higher++;
        }
        lossSum += -(truth - max - Math.log(sum));
        if (argmax != label) top1Wrong++;
        if (higher >= 5) top5Wrong++;
        confusion[label][argmax]++;
        predictions[count++] = argmax;
    }

    public int count() { return count; }

    public double loss() { return count == 0 ? Double.NaN : lossSum / count; }

    /** Fraction of samples whose top class is wrong. */
    public double top1Error() { return count == 0 ? Double.NaN : (double) top1Wrong / count; }

    /** Fraction of samples whose true class is not among the five highest. */
    public double top5Error() { return count == 0 ? Double.NaN : (double) top5Wrong / count; }

    public int top1Wrong() { return top1Wrong; }

    public long[][] confusion() {
        long[][] c = new long[classes][];
        for (int i = 0; i < classes; i++) c[i] = confusion[i].clone();
        return c;
    }

    /** The predicted class of sample i, in the order added. */
    public int prediction(int i) {
        if (i >= count) throw new IndexOutOfBoundsException("sample " + i + " of " + count);
        return predictions[i];
    }

    /**
     * These metrics as numbers that add up across ranks ({@link DataParallel#reduce}): the
     * counts, the loss sum, the confusion matrix, and the predictions placed at
     * [start, start + count) of {@code total} slots (as prediction + 1, 0 where another rank's
     * samples go). The sum over ranks of their packs is the pack of the whole evaluation.
     */
    double[] pack(int start, int total) {
        if (start < 0 || start + count > total) {
            throw new IllegalArgumentException("predictions [" + start + ", " + (start + count) + ") do not fit " + total + " slots");
        }
        double[] p = new double[4 + classes * classes + total];
        p[0] = count;
        p[1] = top1Wrong;
        p[2] = top5Wrong;
        p[3] = lossSum;
        for (int t = 0; t < classes; t++) for (int q = 0; q < classes; q++) p[4 + t * classes + q] = confusion[t][q];
        for (int i = 0; i < count; i++) p[4 + classes * classes + start + i] = predictions[i] + 1;
        return p;
    }

    /** The metrics a {@link #pack} (or a sum of packs) describes; every one of its slots must be filled. */
    static Metrics unpack(int classes, double[] p) {
        int total = p.length - 4 - classes * classes;
        Metrics m = new Metrics(classes, total);
        m.count = (int) p[0];
        if (m.count != total) throw new IllegalStateException("the packs hold " + m.count + " samples for " + total + " slots");
        m.top1Wrong = (int) p[1];
        m.top5Wrong = (int) p[2];
        m.lossSum = p[3];
        for (int t = 0; t < classes; t++) for (int q = 0; q < classes; q++) m.confusion[t][q] = (long) p[4 + t * classes + q];
        for (int i = 0; i < total; i++) m.predictions[i] = (int) p[4 + classes * classes + i] - 1;
        return m;
    }

    /** The confusion matrix as aligned text: rows are true classes, columns predictions. */
    public String confusionText() {
        StringBuilder sb = new StringBuilder("true\\pred");
        for (int k = 0; k < classes; k++) sb.append(String.format("%7d", k));
        sb.append('\n');
        for (int t = 0; t < classes; t++) {
            sb.append(String.format("%9d", t));
            for (int p = 0; p < classes; p++) sb.append(String.format("%7d", confusion[t][p]));
            sb.append('\n');
        }
        return sb.toString();
    }
}
