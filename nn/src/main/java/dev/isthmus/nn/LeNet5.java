package dev.isthmus.nn;

/**
 * LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998) for 32x32 single-channel digits.
 *
 * <pre>
 *   input            (1, 32, 32)
 *   c1  Conv2d 1->6, 5x5     (6, 28, 28)   + scaled tanh
 *   s2  AvgPool2d 2          (6, 14, 14)
 *   c3  Conv2d 6->16, 5x5    (16, 10, 10)  + scaled tanh
 *   s4  AvgPool2d 2          (16, 5, 5)
 *   c5  Conv2d 16->120, 5x5  (120, 1, 1)   + scaled tanh
 *   f6  Linear 120->84       (84)          + scaled tanh
 *   output Linear 84->10     (10)          logits for CrossEntropyLoss
 * </pre>
 *
 * Two simplifications of the paper, as most re-implementations make them: C3 connects to
 * all six S2 maps (the paper's sparse connection table was a compute-saving device), and the
 * output is a linear layer trained with softmax cross-entropy instead of Euclidean RBF units.
 * The paper's subsampling units (average, trainable coefficient and bias, squashing) become
 * average pooling: the following convolution's weights absorb the coefficient and bias.
 */
public final class LeNet5 {
    private LeNet5() {}

    public static final int CLASSES = 10;

    /**
     * The widths of LeNet-5's layers, the architecture parameters a grid search varies: the
     * channels of C1 and C3 and the widths of C5 and F6. {@link #DEFAULT} is the paper's.
     */
    public record Sizes(int c1, int c3, int c5, int f6) {
        /** The paper's 6, 16, 120, 84. */
        public static final Sizes DEFAULT = new Sizes(6, 16, 120, 84);

        public Sizes {
            if (c1 < 1 || c3 < 1 || c5 < 1 || f6 < 1) {
                throw new IllegalArgumentException("LeNet-5 sizes must be >= 1, got c1=" + c1 + " c3=" + c3 + " c5=" + c5 + " f6=" + f6);
            }
        }

        /** "6,16,120,84", as checkpoints store it. */
        public String text() { return c1 + "," + c3 + "," + c5 + "," + f6; }

        /** The inverse of {@link #text}. */
        public static Sizes parse(String text) {
            String[] p = text.split(",");
            if (p.length != 4) throw new IllegalArgumentException("LeNet-5 sizes: expected c1,c3,c5,f6 such as 6,16,120,84, got '" + text + "'");
            try {
                return new Sizes(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()),
                        Integer.parseInt(p[2].strip()), Integer.parseInt(p[3].strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("LeNet-5 sizes: expected four integers c1,c3,c5,f6, got '" + text + "'", e);
            }
        }
    }

    /** The classic network: scaled tanh, average subsampling, LeCun's uniform initialisation. */
    public static Sequential classic() { return classic(Sizes.DEFAULT); }

    /** The classic network with other layer widths. */
    public static Sequential classic(Sizes n) {
        Initializer w = Initializer.lecunUniform();
        Initializer b = Initializer.zeros();
        return new Sequential(
                new Conv2d(1, n.c1(), 5).init(w, b).named("c1"), new ScaledTanh().named("c1_act"),
                new AvgPool2d(2).named("s2"),
                new Conv2d(n.c1(), n.c3(), 5).init(w, b).named("c3"), new ScaledTanh().named("c3_act"),
                new AvgPool2d(2).named("s4"),
                new Conv2d(n.c3(), n.c5(), 5).init(w, b).named("c5"), new ScaledTanh().named("c5_act"),
                new Linear(n.c5(), n.f6()).init(w, b).named("f6"), new ScaledTanh().named("f6_act"),
                new Linear(n.f6(), CLASSES).init(w, b).named("output"));
    }

    /** The modern variant: ReLU, max pooling, He initialisation. */
    public static Sequential relu() { return relu(Sizes.DEFAULT); }

    /** The modern variant with other layer widths. */
    public static Sequential relu(Sizes n) {
        Initializer w = Initializer.heNormal();
        Initializer b = Initializer.zeros();
        return new Sequential(
                new Conv2d(1, n.c1(), 5).init(w, b).named("c1"), new ReLU().named("c1_act"),
                new MaxPool2d(2).named("s2"),
                new Conv2d(n.c1(), n.c3(), 5).init(w, b).named("c3"), new ReLU().named("c3_act"),
                new MaxPool2d(2).named("s4"),
                new Conv2d(n.c3(), n.c5(), 5).init(w, b).named("c5"), new ReLU().named("c5_act"),
                new Linear(n.c5(), n.f6()).init(w, b).named("f6"), new ReLU().named("f6_act"),
                new Linear(n.f6(), CLASSES).init(Initializer.glorotUniform(), b).named("output"));
    }
}
