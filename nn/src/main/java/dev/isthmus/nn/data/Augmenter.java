package dev.isthmus.nn.data;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * A transformation of one training image in place (translation, distortion,
 * flips ...), plugged into a {@link BatchLoader}. It runs on the loader's
 * threads (several at once when the loader has more than one: an
 * implementation must be safe for that), on a copy of the image in the batch
 * buffer (the dataset is never written), with a {@link Random} seeded from the
 * loader's seed, the epoch and the sample's dataset index alone, so a run is
 * reproducible whatever the thread count. An implementation must not keep the
 * segment or the random after returning.
 */
@FunctionalInterface
public interface Augmenter {

    /**
     * Transforms {@code image}, (C, H, W) float32 row-major, in place.
     *
     * @param random seeded for this sample of this epoch
     */
    void augment(MemorySegment image, int channels, int height, int width, Random random);
}
