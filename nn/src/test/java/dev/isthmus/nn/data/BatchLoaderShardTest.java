// BatchLoader's rank shards (PyTorch's DistributedSampler): every rank draws the same permutation
// and takes every ranks-th position, padded by wrapping around, so an epoch covers every index
// (exactly once when the count divides), and ranks loaders of batch B deliver together what one
// loader of batch B x ranks delivers. No MPI: the ranks' loaders are built side by side here.
package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BatchLoaderShardTest {

    @ParameterizedTest(name = "{0} samples over {1} ranks")
    @CsvSource({"1000, 2", "1001, 2", "1001, 3", "17, 4", "7, 1"})
    void everyIndexOncePerEpochAndTheShardsInterleaveToTheWholeEpoch(int m, int ranks) {
        float[] images = new float[m * 4];
        int[] labels = new int[m];
        for (int i = 0; i < m; i++) {
            images[i * 4] = i;
            labels[i] = i % 3;
        }
        try (ImageDataset data = ImageDataset.copyOf("shards", 1, 2, 2, images, labels);
             BatchLoader whole = new BatchLoader(data, data.indices(), 4, 9, true, false, null)) {
            for (int epoch = 0; epoch < 2; epoch++) {
                int[] full = whole.order(epoch);
                int[] seen = new int[m];
                int shardLength = (m + ranks - 1) / ranks;
                for (int r = 0; r < ranks; r++) {
                    try (BatchLoader shard = new BatchLoader(data, data.indices(), 4, 9, true, false, null, 1, r, ranks)) {
                        int[] order = shard.order(epoch);
                        assertEquals(shardLength, order.length, "rank " + r + "'s shard length");
                        for (int k = 0; k < order.length; k++) {
                            assertEquals(full[(r + k * ranks) % m], order[k], "rank " + r + " position " + k);
                            seen[order[k]]++;
                        }
                        assertArrayEquals(order, delivered(shard, epoch), "rank " + r + ": the batches deliver the shard's order");
                    }
                }
                int padded = shardLength * ranks - m;   // the first ones of the permutation, twice
                for (int p = 0; p < m; p++) {
                    assertEquals(p < padded ? 2 : 1, seen[full[p]], "epoch " + epoch + ": times index " + full[p] + " (position " + p + ") was seen");
                }
            }
        }
    }

    @ParameterizedTest(name = "rank {0} of {1}")
    @CsvSource({"2, 2", "-1, 2", "0, 0"})
    void aRankOutsideTheJobIsRefused(int rank, int ranks) {
        try (ImageDataset data = ImageDataset.copyOf("shards", 1, 1, 1, new float[3], new int[3])) {
            var e = assertThrows(IllegalArgumentException.class, () -> new BatchLoader(data, data.indices(), 1, 1, true, false, null, 1, rank, ranks));
            assertEquals("BatchLoader(shards): rank " + rank + " of " + ranks + " is not in [0, ranks) with ranks >= 1", e.getMessage());
        }
    }

    private static int[] delivered(BatchLoader loader, int epoch) {
        List<Integer> got = new ArrayList<>();
        for (BatchLoader.Batch b : loader.epoch(epoch)) for (int j = 0; j < b.size(); j++) got.add(b.index(j));
        return got.stream().mapToInt(Integer::intValue).toArray();
    }
}
