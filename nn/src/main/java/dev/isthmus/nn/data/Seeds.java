package dev.isthmus.nn.data;

/**
 * Derives independent seeds from a seed and a stream number (an epoch, a
 * sample index), so that epoch e or sample i can be reproduced on its own.
 * The mixing is SplitMix64's finaliser (Steele, Lea, Flood 2014).
 */
final class Seeds {

    private Seeds() {}

    static long mix(long seed, long stream) {
        long z = seed + (stream + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
