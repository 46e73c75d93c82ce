package dev.isthmus.nn;

/** The loss became NaN or infinite: training stops, naming where. */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch, batch;

    public TrainingDivergedException(int epoch, int batch, float loss) {
        super("training diverged: loss is " + loss + " at epoch " + epoch + ", batch " + batch
                + " (try a smaller learning rate)");
        this.epoch = epoch;
        this.batch = batch;
    }

    public int epoch() { return epoch; }

    public int batch() { return batch; }
}
