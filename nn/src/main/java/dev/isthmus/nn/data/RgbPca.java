package dev.isthmus.nn.data;

import java.util.Random;

/**
 * The principal components of RGB pixel values, for the colour augmentation
 * of Krizhevsky, Sutskever, Hinton, "ImageNet classification with deep
 * convolutional neural networks" (2012), section 4.1: each image of each
 * epoch gets {@code sum_i alpha_i lambda_i p_i} added to every pixel, with
 * alpha_i ~ N(0, 0.1), lambda_i and p_i the eigenvalues and eigenvectors of
 * the 3x3 covariance of the training set's RGB values.
 *
 * <p>Values are in the units the covariance was computed in; {@link ImageFolder#pca}
 * uses pixel values divided by 255, the scale where the paper's 0.1 gives a
 * shift of a few grey levels.
 *
 * @param covariance   (3, 3) the symmetric covariance
 * @param eigenvalues  (3) in decreasing order
 * @param eigenvectors (3, 3) row i is the unit eigenvector of eigenvalue i
 */
public record RgbPca(double[][] covariance, double[] eigenvalues, double[][] eigenvectors) {

    /** Decomposes a symmetric 3x3 covariance with cyclic Jacobi rotations. */
    public static RgbPca of(double[][] covariance) {
        if (covariance.length != 3 || covariance[0].length != 3 || covariance[1].length != 3
                || covariance[2].length != 3) {
            throw new IllegalArgumentException("RgbPca: covariance must be 3x3");
        }
        double[][] a = new double[3][3];
        double[][] v = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}; // columns become the eigenvectors
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                if (Math.abs(covariance[i][j] - covariance[j][i]) > 1e-9 * (1 + Math.abs(covariance[i][j]))) {
                    throw new IllegalArgumentException("RgbPca: covariance is not symmetric at (" + i + ", " + j + ")");
                }
                a[i][j] = covariance[i][j];
            }
        }
        for (int sweep = 0; sweep < 50; sweep++) {
            double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < 2; p++) {
                for (int q = p + 1; q < 3; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    // The rotation that zeroes a[p][q] (Golub and Van Loan, algorithm 8.4.1).
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < 3; k++) { // A = A J
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++) { // A = J^T A
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++) { // V = V J
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = {0, 1, 2};
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        double[] values = new double[3];
        double[][] vectors = new double[3][3];
        for (int i = 0; i < 3; i++) {
            values[i] = a[order[i]][order[i]];
            for (int k = 0; k < 3; k++) {
                vectors[i][k] = v[k][order[i]];
            }
        }
        double[][] copy = {covariance[0].clone(), covariance[1].clone(), covariance[2].clone()};
        return new RgbPca(copy, values, vectors);
    }

    /** sum_i lambda_i p_i p_i^T, which equals the covariance up to rounding. */
    public double[][] reconstruct() {
        double[][] out = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 3; c++) {
                    out[r][c] += eigenvalues[i] * eigenvectors[i][r] * eigenvectors[i][c];
                }
            }
        }
        return out;
    }

    /**
     * Writes into {@code out} (3) one draw of {@code sum_i alpha_i lambda_i p_i},
     * alpha_i ~ N(0, std), three Gaussian draws from {@code random}.
     */
    public void shift(Random random, double std, float[] out) {
        double a0 = random.nextGaussian() * std * eigenvalues[0];
        double a1 = random.nextGaussian() * std * eigenvalues[1];
        double a2 = random.nextGaussian() * std * eigenvalues[2];
        for (int c = 0; c < 3; c++) {
            out[c] = (float) (a0 * eigenvectors[0][c] + a1 * eigenvectors[1][c] + a2 * eigenvectors[2][c]);
        }
    }
}
