/**
 * Data for training and evaluation: the MNIST IDX files (reading, locating,
 * fetching), in-memory image datasets held off-heap, and a batch loader that
 * assembles batches on a fixed set of loader threads; {@link dev.isthmus.nn.data.Distortions}
 * for MNIST-like digits; {@link dev.isthmus.nn.data.ImageFolder} (RGB images
 * in class folders, cropped, flipped and colour-shifted into batches) and the
 * {@link dev.isthmus.nn.data.Shapes} generator of such folders.
 *
 * <p>Dimension letters used beside every buffer: N samples in a dataset, B
 * samples in a batch, C channels, H and W height and width of a preprocessed
 * image (32x32 for MNIST), R and K rows and columns of a raw IDX image
 * (28x28 for MNIST). Images are float32, row-major (N, C, H, W); labels are
 * int32.
 */
package dev.isthmus.nn.data;
