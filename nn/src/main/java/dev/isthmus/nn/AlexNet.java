package dev.isthmus.nn;

/**
 * AlexNet (Krizhevsky, Sutskever and Hinton 2012, "ImageNet classification with deep
 * convolutional neural networks"), in two layouts.
 *
 * <p>{@link #paper}: the network of the paper, as one model on one device (the paper split it
 * over two GPUs; the two-group convolutions of conv2, conv4 and conv5 keep exactly the
 * connections that split allowed, conv3 and the fully connected layers see everything).
 * The input is 227x227 (the paper says 224, but 11x11 stride 4 needs 227 to give 55).
 *
 * <pre>
 *   input                                              (3, 227, 227)
 *   conv1  Conv2d 3->96, 11x11, stride 4               (96, 55, 55)   + ReLU, LRN
 *   pool1  MaxPool2d 3, stride 2                       (96, 27, 27)
 *   conv2  Conv2d 96->256, 5x5, pad 2, 2 groups        (256, 27, 27)  + ReLU, LRN
 *   pool2  MaxPool2d 3, stride 2                       (256, 13, 13)
 *   conv3  Conv2d 256->384, 3x3, pad 1                 (384, 13, 13)  + ReLU
 *   conv4  Conv2d 384->384, 3x3, pad 1, 2 groups       (384, 13, 13)  + ReLU
 *   conv5  Conv2d 384->256, 3x3, pad 1, 2 groups       (256, 13, 13)  + ReLU
 *   pool5  MaxPool2d 3, stride 2                       (256, 6, 6)
 *   fc6    Linear 9216->4096                           (4096)         + ReLU, dropout 0.5
 *   fc7    Linear 4096->4096                           (4096)         + ReLU, dropout 0.5
 *   fc8    Linear 4096->classes                        (classes)      logits for CrossEntropyLoss
 * </pre>
 *
 * LRN is the paper's n = 5, k = 2, alpha = 1e-4, beta = 0.75; {@link LocalResponseNorm} divides
 * alpha by n (PyTorch and oneDNN do), so it is written alpha = 5e-4. Dropout acts on the outputs
 * of the first two fully connected layers ("we use dropout in the first two fully-connected
 * layers", section 4.2), after their ReLU, as in Caffe's reference model. Weights start from
 * N(0, 0.01); biases are 1 in conv2, conv4, conv5 and the hidden fully connected layers (to give
 * the ReLUs positive inputs early), 0 elsewhere (section 5). With 1000 classes it has
 * 60,965,224 parameters.
 *
 * <p>{@link #modern}: torchvision's {@code alexnet} (from "One weird trick", Krizhevsky 2014):
 * 224x224 input, 64-192-384-256-256 channels, no LRN, no groups, dropout before fc6 and fc7,
 * PyTorch's default initialisation. torchvision's adaptive average pooling to 6x6 is the
 * identity at 224 and is left out. Its layers carry torchvision's names ("features.0",
 * "classifier.1"), so its checkpoints hold the same tensor names and shapes as torchvision's
 * {@code state_dict}.
 */
public final class AlexNet {
    private AlexNet() {}

    /** The paper's input side (227: see the class comment). */
    public static final int PAPER_SIZE = 227;

    /** torchvision's input side. */
    public static final int MODERN_SIZE = 224;

    /** The paper's network for {@code classes} classes (1000 for ImageNet). */
    public static Sequential paper(int classes) {
        requireClasses(classes);
        Initializer w = Initializer.normal(0.01);
        Initializer zero = Initializer.zeros(), one = Initializer.constant(1f);
        return new Sequential(
                new Conv2d(3, 96, 11, 4, 0).init(w, zero).named("conv1"), new ReLU().named("relu1"),
                lrn().named("norm1"), new MaxPool2d(3, 2).named("pool1"),
                new Conv2d(96, 256, 5, 1, 2, 1, 2, true).init(w, one).named("conv2"), new ReLU().named("relu2"),
                lrn().named("norm2"), new MaxPool2d(3, 2).named("pool2"),
                new Conv2d(256, 384, 3, 1, 1).init(w, zero).named("conv3"), new ReLU().named("relu3"),
                new Conv2d(384, 384, 3, 1, 1, 1, 2, true).init(w, one).named("conv4"), new ReLU().named("relu4"),
                new Conv2d(384, 256, 3, 1, 1, 1, 2, true).init(w, one).named("conv5"), new ReLU().named("relu5"),
                new MaxPool2d(3, 2).named("pool5"),
                new Linear(256 * 6 * 6, 4096).init(w, one).named("fc6"), new ReLU().named("relu6"),
                new Dropout(0.5f).named("drop6"),
                new Linear(4096, 4096).init(w, one).named("fc7"), new ReLU().named("relu7"),
                new Dropout(0.5f).named("drop7"),
                new Linear(4096, classes).init(w, zero).named("fc8"));
    }

    /** torchvision's {@code alexnet(num_classes=classes)}, with PyTorch's default initialisation. */
    public static Sequential modern(int classes) {
        requireClasses(classes);
        return new Sequential(
                new Conv2d(3, 64, 11, 4, 2).named("features.0"), new ReLU().named("features.1"),
                new MaxPool2d(3, 2).named("features.2"),
                new Conv2d(64, 192, 5, 1, 2).named("features.3"), new ReLU().named("features.4"),
                new MaxPool2d(3, 2).named("features.5"),
                new Conv2d(192, 384, 3, 1, 1).named("features.6"), new ReLU().named("features.7"),
                new Conv2d(384, 256, 3, 1, 1).named("features.8"), new ReLU().named("features.9"),
                new Conv2d(256, 256, 3, 1, 1).named("features.10"), new ReLU().named("features.11"),
                new MaxPool2d(3, 2).named("features.12"),
                new Dropout(0.5f).named("classifier.0"),
                new Linear(256 * 6 * 6, 4096).named("classifier.1"), new ReLU().named("classifier.2"),
                new Dropout(0.5f).named("classifier.3"),
                new Linear(4096, 4096).named("classifier.4"), new ReLU().named("classifier.5"),
                new Linear(4096, classes).named("classifier.6"));
    }

    /**
     * Re-initialises {@code model} (an uncompiled AlexNet of either layout) for training from
     * scratch on little data: He et al. 2015 normal weights, std sqrt(2 / fanIn), in every
     * convolution and hidden linear layer, N(0, 0.01) in the last (logit) layer, all biases 0.
     * Signals then keep about their scale through the ReLUs for unit-scale inputs (see
     * {@code ImageFolder.std}), where N(0, 0.01) weights with biases 1 make the hidden layers
     * nearly constant and PyTorch's uniform default shrinks them by about sqrt(6) per layer.
     * Returns {@code model}.
     */
    public static Sequential heInit(Sequential model) {
        Initializer he = Initializer.heNormal(), zero = Initializer.zeros();
        Layer last = null;
        for (Layer layer : model.layers()) {
            if (layer instanceof Linear) last = layer;
        }
        for (Layer layer : model.layers()) {
            if (layer instanceof Conv2d c) c.init(he, zero);
            else if (layer instanceof Linear l) l.init(layer == last ? Initializer.normal(0.01) : he, zero);
        }
        return model;
    }

    /**
     * The index of the last hidden representation: the ReLU after fc7 (4096 features), whose
     * Euclidean neighbours the paper shows in its figure 4. For either layout.
     */
    public static int featureLayer(Sequential model) {
        for (int i = model.layers().size() - 1; i >= 0; i--) {
            if (model.layers().get(i) instanceof ReLU) return i;
        }
        throw new IllegalArgumentException("the model has no ReLU layer: " + model.layers());
    }

    private static LocalResponseNorm lrn() { return new LocalResponseNorm(5, 5e-4f, 0.75f, 2f); }

    private static void requireClasses(int classes) {
        if (classes < 2) throw new IllegalArgumentException("AlexNet: classes must be at least 2, got " + classes);
    }
}
