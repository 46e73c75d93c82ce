package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.Lifetime;
import dev.isthmus.engine.MemoryFootprint;
import dev.isthmus.engine.ReorderReport;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A static graph: layers applied one after another (PyTorch's nn.Sequential). {@link #compile}
 * infers every shape, creates every plan and allocates every activation, gradient and
 * parameter once; {@link #forward} and {@link #backward} then only execute.
 *
 * <pre>
 *   var model = new Sequential(new Conv2d(1, 6, 5), new ScaledTanh(), ...);
 *   model.compile(backend, 64, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, seed);
 *   Tensor logits = model.forward(images);          // (N, 10)
 *   model.backward(loss.backward());
 * </pre>
 *
 * <p>Fusion: by default a {@link Conv2d} followed by an activation layer (ReLU, Tanh, ScaledTanh,
 * Sigmoid) compiles into one convolution plan with the activation fused
 * ({@link dev.isthmus.engine.Conv2dSpec#activation}): on oneDNN an eltwise post-op, so one pass
 * over the output and one activation buffer fewer. The layers, their names and checkpoints do not
 * change; the activation layer passes through. Results equal the unfused model's up to float
 * rounding of tanh and sigmoid (ReLU: bit for bit). {@link #fuseActivations(boolean)} turns it off.
 *
 * <p>{@link #close()} while other threads run {@link #forward} or {@link #backward} waits for those
 * calls to finish before freeing anything; later calls throw {@link IllegalStateException} saying
 * the model was closed (a {@link Lifetime} per compile).
 */
public final class Sequential implements AutoCloseable {
    public enum Mode { TRAIN, INFERENCE }

    private final List<Layer> layers;
    private Backend backend;
    private int batch;
    private Shape inputShape;          // per sample
    private Shape batchedInputShape;   // (N, input...)
    private final List<Shape> outputShapes = new ArrayList<>();
    private final List<Layout> outputLayouts = new ArrayList<>();
    private boolean compiledForTraining;
    private boolean training;
    private Parameters parameters;
    private GradientSink gradients;
    private List<AutoCloseable> owned = List.of();
    private boolean fuseActivations = true;
    private boolean[] fusedWithNext = new boolean[0];   // per layer, as compiled
    private MemoryReport.Counter buffers = new MemoryReport.Counter();   // the layers' buffers, as compiled
    private long parameterBytes, gradientBytes;
    private java.util.function.IntConsumer afterLayerBackward;   // null: none (see onLayerBackward)
    private Tensor[] lastOutputs = new Tensor[0];       // per layer, the buffer the last forward returned
    private volatile Lifetime lifetime;                 // per compile; kept after close for its message

    public Sequential(Layer... layers) {
        this(List.of(layers));
    }

    public Sequential(List<Layer> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException("a Sequential model needs at least one layer");
        this.layers = List.copyOf(layers);
        for (int i = 0; i < this.layers.size(); i++) {
            Layer l = this.layers.get(i);
            if (l.name() == null) l.setName(String.valueOf(i));
        }
    }

    public List<Layer> layers() { return layers; }

    /** Per-sample output shapes of every layer for an input shape, without compiling; errors name the layer. */
    public List<Shape> inferShapes(Shape input) {
        List<Shape> shapes = new ArrayList<>();
        Shape s = input;
        for (Layer l : layers) {
            try {
                s = l.outputShape(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer '" + l.name() + "' (" + l + ") cannot take input "
                        + s + ": " + e.getMessage(), e);
            }
            shapes.add(s);
        }
        return shapes;
    }

    /**
     * Whether the next {@link #compile} fuses each convolution with the activation layer after it
     * (default true). Off, every layer runs its own plan: for comparisons and for reading a
     * convolution's raw output with {@link #forwardTo}.
     */
    public Sequential fuseActivations(boolean fuse) {
        this.fuseActivations = fuse;
        return this;
    }

    /** The fused pairs of the current compile, "conv1+relu1", in layer order (empty when none or not compiled). */
    public List<String> fusions() {
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < fusedWithNext.length; i++) {
            if (fusedWithNext[i]) pairs.add(layers.get(i).name() + "+" + layers.get(i + 1).name());
        }
        return pairs;
    }

    private boolean[] fusionPlan() {
        boolean[] fused = new boolean[layers.size()];
        for (int i = 0; fuseActivations && i + 1 < layers.size(); i++) {
            fused[i] = layers.get(i) instanceof Conv2d && layers.get(i + 1) instanceof Activation;
        }
        return fused;
    }

    /**
     * Plans every op for {@code batch} samples of shape {@code input} on {@code backend};
     * parameters are initialised from {@code seed}. Compiling again first frees the previous compile.
     */
    public Sequential compile(Backend backend, int batch, Shape input, Mode mode, long seed) {
        return compile(backend, batch, input, mode, seed, null);
    }

    /**
     * Compiles for inference over parameter values that someone else owns: {@code values} (P), a
     * tensor on {@code backend} laid out as {@link #parameters()}'s value slab, is used as it is
     * (not copied, not initialised, not freed by {@link #close}). Many models of the same layers
     * compiled over one slab share their weights and nothing else: this is how
     * {@link Predictor} gives each execution context its own buffers over one copy of the weights.
     */
    public Sequential compileShared(Backend backend, int batch, Shape input, Tensor values) {
        if (values == null) throw new IllegalArgumentException("values is null");
        return compile(backend, batch, input, Mode.INFERENCE, 0, values);
    }

    private Sequential compile(Backend backend, int batch, Shape input, Mode mode, long seed, Tensor sharedValues) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be > 0, got " + batch);
        close();
        List<Shape> shapes = inferShapes(input);
        MemoryBudget.check(layers, fusionPlan(), batch, input, shapes, mode == Mode.TRAIN);   // before allocating anything
        this.lifetime = new Lifetime("the model (" + layers.size() + " layers, batch " + batch + ")");
        this.backend = backend;
        this.batch = batch;
        this.inputShape = input;
        this.batchedInputShape = input.prepend(batch);
        this.outputShapes.clear();
        this.outputShapes.addAll(shapes);
        this.compiledForTraining = mode == Mode.TRAIN;
        this.training = compiledForTraining;
        this.owned = CompileContext.newOwnedList();
        this.gradients = new GradientSink(backend);
        this.buffers = new MemoryReport.Counter();
        List<List<Parameter>> perLayer = allocateParameters(input, new SplittableRandom(seed), sharedValues);
        this.fusedWithNext = fusionPlan();
        boolean[] plainOutput = plainOutputs();
        this.outputLayouts.clear();
        this.lastOutputs = new Tensor[layers.size()];
        Shape in = input;
        Layout inLayout = Layout.PLAIN;   // the caller's input is plain
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            EltwiseKind fuse = fusedWithNext[i] ? ((Activation) layers.get(i + 1)).kind() : null;
            boolean absorbed = i > 0 && fusedWithNext[i - 1];
            // the layer's name labels its plans for a profiler (Backend.forLayer; other backends return themselves)
            String label = fuse == null ? l.name() : l.name() + "+" + layers.get(i + 1).name();
            var ctx = new CompileContext(backend.forLayer(label), seed, i, batch, in, shapes.get(i), compiledForTraining,
                    perLayer.get(i), gradients, owned, fuse, absorbed, buffers, inLayout, plainOutput[i],
                    sharedValues == null);   // weights shared with other compiles stay plain, in the shared slab
            l.compile(ctx);
            in = shapes.get(i);
            inLayout = ctx.outputLayout();
            outputLayouts.add(inLayout);
        }
        // layers may have moved parameters into their plans' layouts (inference): report those tensors
        List<Parameter> all = new ArrayList<>();
        for (List<Parameter> mine : perLayer) all.addAll(mine);
        parameters = new Parameters(backend, parameters.values(), parameters.hasGrads() ? parameters.grads() : null, all, gradients);
        return this;
    }

    /**
     * Per layer, whether its output must be plain. Layouts travel only in an inference compile, from a
     * layer to the next one that computes (skipping fused activations and inference dropout, which pass
     * their input on) when that one's plan takes a backend's layout: a convolution, pooling, LRN or a
     * linear layer. The model's output is plain, as is what a plain-only layer reads (a separate
     * activation, Flatten's reshape).
     */
    private boolean[] plainOutputs() {
        boolean[] plain = new boolean[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            int next = i + 1;
            while (next < layers.size() && passesThrough(next)) next++;
            plain[i] = compiledForTraining || next == layers.size() || !takesBackendLayouts(layers.get(next));
        }
        return plain;
    }

    private boolean passesThrough(int i) {
        Layer l = layers.get(i);
        return (l instanceof Activation && i > 0 && fusedWithNext[i - 1]) || (l instanceof Dropout && !compiledForTraining);
    }

    private static boolean takesBackendLayouts(Layer l) {
        return l instanceof Conv2d || l instanceof Pool2d || l instanceof LocalResponseNorm || l instanceof Linear;
    }

    /**
     * Reorders one forward runs in the compiled propagation (an inference compile's forward; a training
     * compile's training forward), as the plans report them ({@link ReorderReport}): what the backend's
     * reorder counter should show per forward.
     */
    public int reordersPerForward() {
        requireCompiled();
        int n = 0;
        for (MemoryReport.LayerPlan p : buffers.plans) n += p.plan().reordersPerForward();
        return n;
    }

    /** Reorders one training step (forward and backward; the first layer computes no input gradient) runs. */
    public int reordersPerStep() {
        requireCompiled();
        if (!compiledForTraining) throw new IllegalStateException("the model was compiled for inference: it has no training step");
        int n = reordersPerForward();
        for (MemoryReport.LayerPlan p : buffers.plans) n += p.plan().reordersPerBackward(p.layer() > 0);
        return n;
    }

    /**
     * Per layer with a plan that reports them: its name, output layout and the layouts its primitives chose,
     * with every remaining reorder marked {@code x->y}.
     */
    public String layouts() {
        requireCompiled();
        StringBuilder s = new StringBuilder();
        for (MemoryReport.LayerPlan p : buffers.plans) {
            Layer l = layers.get(p.layer());
            s.append(l.name()).append(" (").append(l).append(") -> ").append(outputLayouts.get(p.layer()).name()).append('\n');
            for (String line : p.plan().layouts().split("\n")) s.append("    ").append(line).append('\n');
        }
        return s.toString();
    }

    /** The layout each layer's output is in, as compiled: plain, or a backend's (inference compiles on dnnl). */
    public List<Layout> outputLayouts() { return Collections.unmodifiableList(outputLayouts); }

    private List<List<Parameter>> allocateParameters(Shape input, SplittableRandom random, Tensor shared) {
        List<List<Layer.ParameterSlot>> slots = new ArrayList<>();
        long total = 0, largest = 1;
        Shape in = input;
        for (int i = 0; i < layers.size(); i++) {
            List<Layer.ParameterSlot> s = layers.get(i).parameterSlots(in);
            slots.add(s);
            long layerTotal = 0;   // a layer writes all its gradients at once: its scratch views must not overlap
            for (Layer.ParameterSlot p : s) layerTotal += p.shape().elements();
            total += layerTotal;
            largest = Math.max(largest, layerTotal);
            in = outputShapes.get(i);
        }
        if (shared != null && shared.elements() != total) {
            throw new IllegalArgumentException("shared parameter values have " + shared.elements()
                    + " elements, the model needs " + total);
        }
        Tensor values = total == 0 ? null
                : shared != null ? shared : own(backend.allocate(Shape.of(Math.toIntExact(total)), DType.F32));
        Tensor grads = total == 0 || !compiledForTraining ? null
                : own(backend.allocate(Shape.of(Math.toIntExact(total)), DType.F32));
        Tensor scratch = grads == null ? null : own(backend.allocate(Shape.of(Math.toIntExact(largest)), DType.F32));
        parameterBytes = values == null ? 0 : values.byteSize();
        gradientBytes = grads == null ? 0 : grads.byteSize() + scratch.byteSize();
        List<List<Parameter>> perLayer = new ArrayList<>();
        List<Parameter> all = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < layers.size(); i++) {
            List<Parameter> mine = new ArrayList<>();
            long scratchOffset = 0;
            for (Layer.ParameterSlot s : slots.get(i)) {
                Tensor v = values.view(offset, s.shape());
                if (shared == null) {
                    float[] init = new float[Math.toIntExact(s.shape().elements())];
                    s.init().fill(init, s.fanIn(), s.fanOut(), random);
                    v.copyFrom(init);
                }
                Tensor g = grads == null ? null : grads.view(offset, s.shape());
                if (g != null) gradients.register(g, scratch.view(scratchOffset, s.shape()));
                scratchOffset += s.shape().elements();
                Parameter p = new Parameter(layers.get(i).name() + "." + s.suffix(), v, g, offset);
                mine.add(p);
                all.add(p);
                offset += s.shape().elements();
            }
            perLayer.add(mine);
        }
        parameters = new Parameters(backend, values, grads, all, gradients);
        return perLayer;
    }

    private Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    /** Runs every layer on {@code input} (N, C, H, W) and returns the last layer's output buffer. */
    public Tensor forward(Tensor input) {
        return forwardTo(input, layers.size() - 1);
    }

    /**
     * Runs layers 0 .. {@code last} on {@code input} and returns layer {@code last}'s output buffer
     * (N, output...): an intermediate representation, such as AlexNet's 4096 fc7 features.
     * The buffer is the layer's own and is overwritten by the next forward.
     */
    public Tensor forwardTo(Tensor input, int last) {
        Lifetime l = enter();
        try {
            return forwardToInside(input, last);
        } finally {
            l.exit();
        }
    }

    private Tensor forwardToInside(Tensor input, int last) {
        Shape expected = batchedInputShape;   // computed at compile: forward allocates nothing
        if (!input.shape().equals(expected)) {
            throw new IllegalArgumentException("model input has shape " + input.shape() + ", expected " + expected
                    + " (batch " + batch + " of " + inputShape + ")");
        }
        if (last < 0 || last >= layers.size()) {
            throw new IllegalArgumentException("layer index " + last + " is outside [0, " + layers.size() + ")");
        }
        if (fusedWithNext[last]) {
            throw new IllegalArgumentException("layer '" + layers.get(last).name() + "' has the activation '"
                    + layers.get(last + 1).name() + "' fused into it, so its output is not computed on its own: ask for '"
                    + layers.get(last + 1).name() + "', or call fuseActivations(false) before compile");
        }
        Tensor x = input;
        for (int i = 0; i <= last; i++) lastOutputs[i] = x = layers.get(i).forward(x, training);
        return x;
    }

    /**
     * The output buffer (N, output...) layer {@code index} returned in the last forward that reached
     * it (null before any): for diagnostics that read activations after a step.
     * A fused activation's output is its convolution's buffer. Overwritten by the next forward.
     */
    public Tensor lastOutput(int index) {
        requireCompiled();
        return lastOutputs[index];
    }

    /** The index of the layer called {@code name}; throws listing the names when there is none. */
    public int indexOf(String name) {
        for (int i = 0; i < layers.size(); i++) if (layers.get(i).name().equals(name)) return i;
        throw new IllegalArgumentException("no layer '" + name + "'; the model has "
                + layers.stream().map(Layer::name).toList());
    }

    /** Back-propagates {@code diffOutput} (the gradient of the loss w.r.t. the last output); gradients accumulate. */
    public void backward(Tensor diffOutput) {
        Lifetime l = enter();
        try {
            if (!compiledForTraining) throw new IllegalStateException("the model was compiled for inference; compile with Mode.TRAIN to train");
            Tensor g = diffOutput;
            for (int i = layers.size() - 1; i >= 0; i--) {
                g = layers.get(i).backward(g, i > 0);
                if (afterLayerBackward != null) afterLayerBackward.accept(i);
            }
            gradients.markDirty();
        } finally {
            l.exit();
        }
    }

    /** Starts a call that keeps this compile alive until {@code exit}: throws when not compiled or closed. */
    private Lifetime enter() {
        Lifetime l = lifetime;
        if (l == null) requireCompiled();
        l.enter();   // after close (until the next compile) this throws naming the closed model
        return l;
    }

    /**
     * Calls {@code listener} with each layer's index right after that layer's backward (last
     * layer first), when its parameter gradients are final for this pass: data-parallel training
     * ({@link DataParallel}) starts allreducing a bucket of gradients there while the earlier
     * layers still run. Null removes it.
     */
    public void onLayerBackward(java.util.function.IntConsumer listener) {
        this.afterLayerBackward = listener;
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        requireCompiled();
        parameters.zeroGrad();
    }

    /** Training behaviour (dropout active, pooling keeps its workspace). Default after a TRAIN compile. */
    public Sequential train() {
        requireCompiled();
        if (!compiledForTraining) throw new IllegalStateException("the model was compiled for inference; it cannot train");
        training = true;
        return this;
    }

    /** Inference behaviour (PyTorch's eval()). */
    public Sequential eval() {
        requireCompiled();
        training = false;
        return this;
    }

    public boolean isTraining() { return training; }

    public Parameters parameters() {
        requireCompiled();
        return parameters;
    }

    public Backend backend() { return backend; }

    /**
     * The native bytes this compile holds: parameters and plan-owned memory once per model, and per
     * execution context the activations, workspaces, backward buffers, gradients and the plans'
     * scratchpads and reorder buffers (plans that report them: {@link MemoryFootprint}).
     */
    public MemoryReport memory() {
        requireCompiled();
        long planBytes = 0, planContextBytes = 0, scratchpadBytes = 0;
        for (AutoCloseable o : owned) {
            if (o instanceof MemoryFootprint f) {
                planBytes += f.planBytes();
                planContextBytes += f.contextBytes();
                scratchpadBytes += f.scratchpadBytes();
            }
        }
        planBytes += buffers.get(CompileContext.Buffer.WEIGHTS);   // parameters kept in a plan's layout
        return new MemoryReport(parameterBytes, gradientBytes, buffers.get(CompileContext.Buffer.ACTIVATION),
                buffers.get(CompileContext.Buffer.WORKSPACE), buffers.get(CompileContext.Buffer.BACKWARD),
                planBytes, planContextBytes, scratchpadBytes);
    }

    public int batch() { return batch; }

    public Shape inputShape() { return inputShape; }

    /** Per-sample output shape of the whole model. */
    public Shape outputShape() { return outputShapes.getLast(); }

    public List<Shape> outputShapes() { return Collections.unmodifiableList(outputShapes); }

    public boolean isCompiled() { return backend != null; }

    private void requireCompiled() {
        if (backend == null) throw new IllegalStateException("the model is not compiled; call compile(backend, batch, inputShape, mode, seed) first");
    }

    /** Frees every plan and buffer (layers first, in reverse). The model can be compiled again. */
    @Override public void close() {
        Lifetime l = lifetime;
        if (l != null) l.close();   // waits for the forward and backward calls in flight
        if (backend == null) return;
        for (int i = layers.size() - 1; i >= 0; i--) layers.get(i).close();
        RuntimeException failure = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("closing " + owned.get(i), e);
            }
        }
        owned = List.of();
        fusedWithNext = new boolean[0];
        lastOutputs = new Tensor[0];
        backend = null;
        parameters = null;
        if (failure != null) throw failure;
    }
}
