package dev.isthmus.nn;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A 2-D convolution with PyTorch's arguments (torch.nn.Conv2d): square kernel, stride,
 * symmetric padding, dilation (1 = none), groups, bias. Weights (OC, IC/G, KH, KW), bias (OC).
 * PyTorch's conventions become the engine's (oneDNN's) here and only here. When its model fuses
 * the activation layer that follows ({@link Sequential#fuseActivations}), the plan computes it and
 * this layer's output is the activated one.
 */
public final class Conv2d extends AbstractLayer {
    private final int inChannels, outChannels, kernelSize, stride, padding, dilation, groups;
    private final boolean bias;
    private Initializer weightInit = Initializer.pytorchDefault();
    private Initializer biasInit = Initializer.pytorchDefault();

    private Conv2dPlan plan;
    private Parameter weight, biasParam;
    private Tensor dst;       // (N, OC, OH, OW)
    private Tensor diffSrc;   // (N, IC, IH, IW); null when the input needs no gradient
    private Tensor diffPre;   // (N, OC, OH, OW): the gradient before a fused activation; null without one
    private Tensor src;       // the input of the last forward

    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, 1, 1, true);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding,
                  int dilation, int groups, boolean bias) {
        this.inChannels = positive("in_channels", inChannels);
        this.outChannels = positive("out_channels", outChannels);
        this.kernelSize = positive("kernel_size", kernelSize);
        this.stride = positive("stride", stride);
        if (padding < 0) throw new IllegalArgumentException(this + ": padding must be >= 0, got " + padding);
        this.padding = padding;
        this.dilation = positive("dilation", dilation);
        this.groups = positive("groups", groups);
        this.bias = bias;
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(this + ": in_channels " + inChannels + " and out_channels "
                    + outChannels + " must both be divisible by groups " + groups);
        }
    }

    /** Sets how weights and bias are initialised (default: PyTorch's uniform +-1/sqrt(fanIn)). */
    public Conv2d init(Initializer weights, Initializer bias) {
        this.weightInit = weights;
        this.biasInit = bias;
        return this;
    }

    private Window window() {
        return new Window(kernelSize, kernelSize, stride, stride, padding, padding, padding, padding,
                dilation - 1, dilation - 1);   // PyTorch dilation 1 is oneDNN dilation 0
    }

    private Conv2dSpec spec(int batch, Shape input) {
        requireRank(input, 3);
        if (input.dim(0) != inChannels) {
            throw new IllegalArgumentException(this + ": input has " + input.dim(0) + " channels, expected "
                    + inChannels + "; input " + input);
        }
        try {
            return new Conv2dSpec(batch, inChannels, input.dim(1), input.dim(2), outChannels, window(), groups, bias);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(this + ": input " + input + ": " + e.getMessage(), e);
        }
    }

    @Override public Shape outputShape(Shape input) {
        Conv2dSpec s = spec(1, input);
        return Shape.of(outChannels, s.outHeight(), s.outWidth());
    }

    /** Forward FLOPs for one sample of shape {@code input} (multiply-adds times two, {@link Conv2dSpec#flops}). */
    long flops(Shape input) { return spec(1, input).flops(); }

    @Override public List<ParameterSlot> parameterSlots(Shape input) {
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        int fanOut = outChannels / groups * kernelSize * kernelSize;
        List<ParameterSlot> slots = new ArrayList<>();
        slots.add(new ParameterSlot("weight", Shape.of(outChannels, inChannels / groups, kernelSize, kernelSize),
                fanIn, fanOut, weightInit));
        if (bias) slots.add(new ParameterSlot("bias", Shape.of(outChannels), fanIn, fanOut, biasInit));
        return slots;
    }

    @Override public void compile(CompileContext ctx) {
        plan = ctx.own(ctx.backend().conv2d(spec(ctx.batch(), ctx.input()).withActivation(ctx.fuseActivation())));
        weight = ctx.parameter(0);
        biasParam = bias ? ctx.parameter(1) : null;
        dst = ctx.allocate(ctx.batchedOutput());
        diffSrc = ctx.training() ? ctx.allocate(ctx.batchedInput()) : null;
        diffPre = ctx.training() && ctx.fuseActivation() != null ? ctx.allocate(ctx.batchedOutput()) : null;
        gradients = ctx.gradients();
    }

    private GradientSink gradients;

    @Override public Tensor forward(Tensor input, boolean training) {
        src = input;
        plan.forward(dst, input, weight.value(), biasParam == null ? null : biasParam.value());
        return dst;
    }

    @Override public Tensor backward(Tensor diffOutput, boolean needInputGradient) {
        Tensor diffDst = diffOutput;
        if (diffPre != null) {   // the output went through a fused activation
            plan.backwardActivation(diffPre, diffOutput, dst);
            diffDst = diffPre;
        }
        Tensor gw = gradients.target(weight.grad());
        Tensor gb = biasParam == null ? null : gradients.target(biasParam.grad());
        plan.backwardWeights(gw, gb, diffDst, src);
        gradients.commit(weight.grad(), gw);
        if (gb != null) gradients.commit(biasParam.grad(), gb);
        if (!needInputGradient) return null;
        plan.backwardData(diffSrc, diffDst, weight.value());
        return diffSrc;
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = diffPre = src = null;
        weight = biasParam = null;
    }

    /** The constructor's arguments, for a model file's architecture ({@link Architecture}). */
    Map<String, Object> config() {
        return Map.of("in_channels", inChannels, "out_channels", outChannels, "kernel_size", kernelSize,
                "stride", stride, "padding", padding, "dilation", dilation, "groups", groups, "bias", bias);
    }

    @Override public String toString() {
        String s = "Conv2d(" + inChannels + "->" + outChannels + ", k=" + kernelSize;
        if (stride != 1) s += ", s=" + stride;
        if (padding != 0) s += ", p=" + padding;
        if (dilation != 1) s += ", d=" + dilation;
        if (groups != 1) s += ", groups=" + groups;
        if (!bias) s += ", bias=false";
        return s + ")";
    }
}
