package dev.isthmus.nn;

import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A fully connected layer (torch.nn.Linear): y = x W^T + b, weights (OUT, IN), bias (OUT).
 * Unlike PyTorch it reads any per-sample input of IN elements as a flat vector, so a
 * (C, H, W) feature map needs no explicit {@link Flatten}.
 */
public final class Linear extends AbstractLayer {
    private final int inFeatures, outFeatures;
    private final boolean bias;
    private Initializer weightInit = Initializer.pytorchDefault();
    private Initializer biasInit = Initializer.pytorchDefault();

    private LinearPlan plan;
    private Parameter weight, biasParam;
    private GradientSink gradients;
    private Tensor dst;       // (N, OUT)
    private Tensor diffSrc;   // (N, input...)
    private Tensor src;

    public Linear(int inFeatures, int outFeatures) { this(inFeatures, outFeatures, true); }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this.inFeatures = positive("in_features", inFeatures);
        this.outFeatures = positive("out_features", outFeatures);
        this.bias = bias;
    }

    /** Sets how weights and bias are initialised (default: PyTorch's uniform +-1/sqrt(fanIn)). */
    public Linear init(Initializer weights, Initializer bias) {
        this.weightInit = weights;
        this.biasInit = bias;
        return this;
    }

    @Override public Shape outputShape(Shape input) {
        if (input.elements() != inFeatures) {
            throw new IllegalArgumentException(this + ": input " + input + " has " + input.elements()
                    + " features per sample, expected " + inFeatures);
        }
        return Shape.of(outFeatures);
    }

    /** Forward FLOPs for one sample: 2 * in * out. */
    long flops() { return 2L * inFeatures * outFeatures; }

    @Override public List<ParameterSlot> parameterSlots(Shape input) {
        List<ParameterSlot> slots = new ArrayList<>();
        slots.add(new ParameterSlot("weight", Shape.of(outFeatures, inFeatures), inFeatures, outFeatures, weightInit));
        if (bias) slots.add(new ParameterSlot("bias", Shape.of(outFeatures), inFeatures, outFeatures, biasInit));
        return slots;
    }

    @Override public void compile(CompileContext ctx) {
        plan = ctx.own(ctx.backend().linear(new LinearSpec(ctx.batch(), inFeatures, outFeatures, bias)));
        weight = ctx.parameter(0);
        biasParam = bias ? ctx.parameter(1) : null;
        gradients = ctx.gradients();
        dst = ctx.allocate(ctx.batchedOutput());
        diffSrc = ctx.training() ? ctx.allocate(ctx.batchedInput()) : null;
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        src = input;
        plan.forward(dst, input, weight.value(), biasParam == null ? null : biasParam.value());
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
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
        weight = biasParam = null;
        dst = diffSrc = src = null;
    }

    /** The constructor's arguments, for a model file's architecture ({@link Architecture}). */
    Map<String, Object> config() {
        return Map.of("in_features", inFeatures, "out_features", outFeatures, "bias", bias);
    }

    @Override public String toString() {
        return "Linear(" + inFeatures + "->" + outFeatures + (bias ? "" : ", bias=false") + ")";
    }
}
