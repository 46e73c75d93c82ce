package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Training diagnostics, the lecture's "check the gradients, check the initialisation": a
 * {@link Trainer.StepListener} that, every {@code every}-th step, measures per parameter the
 * gradient norm and the ratio of the update's norm to the weight's, and per activation layer the
 * fraction of saturated outputs (tanh, LeCun's scaled tanh, sigmoid) or, for ReLU, which units
 * were never active. At each epoch's end it averages the samples and applies {@link Rules},
 * turning a fired rule into a {@link Warning} that names the layer and the likely cause.
 *
 * <p>What it costs: on a sampled step one host copy of the weight slab (P floats), one pass over
 * the gradients and the weights, one pass over every activation output; nothing on other steps.
 *
 * <p>Saturation thresholds: |tanh| &gt; 0.97; scaled tanh 1.7159 tanh(2x/3) beyond 0.97 of its
 * asymptote 1.7159 (the same point of the curve); sigmoid below 0.03 or above 0.97. A ReLU unit
 * (one element of the per-sample output, (C, H, W) or (F)) is never active when it is 0 for every
 * sample of every sampled batch of the epoch.
 */
public final class Diagnostics implements Trainer.StepListener {
    /** The thresholds of the warnings; {@link #DEFAULT} is what README.md documents. */
    public record Rules(int earlySteps, double saturatedEarly, double saturated, double neverActive, double vanishing,
                        double updateHigh, double updateLow) {
        /**
         * 20% of units saturated over the first 200 steps, or 90% at an epoch's end (a trained LeNet-5
         * has 30-50% of its C3, C5 and F6 outputs beyond 0.97 of the asymptote: saturation is
         * trouble early, or when nearly total); 40% never-active ReLU units; a weight's RMS gradient
         * 1e-3 of the largest layer's; update/weight above 0.05 or below 1e-6.
         */
        public static final Rules DEFAULT = new Rules(200, 0.20, 0.90, 0.40, 1e-3, 0.05, 1e-6);
    }

    /** One fired rule: its name (saturated, dead, vanishing, update-high, update-low, non-finite) and the sentence. */
    public record Warning(int epoch, String rule, String layer, String message) {}

    /** One parameter over one epoch: means over the sampled steps. */
    public record ParameterStats(String name, String layer, long elements, double gradNorm, double weightNorm,
                                 double updateRatio) {
        /** The root-mean-square gradient, ||g|| / sqrt(elements): comparable across layers of different sizes. */
        public double gradRms() { return gradNorm / Math.sqrt(elements); }
    }

    /**
     * One activation layer over one epoch, as fractions, NaN where they do not apply: for tanh and
     * sigmoid {@code saturated} over all sampled batches and {@code saturatedAtEnd} over the last
     * quarter of them (the state the epoch leaves; saturation that grows while training shows
     * there first) and as {@code neverActive} the units saturated on every sampled sample; for ReLU
     * {@code neverActive} (units 0 on every sampled sample) and {@code zeroFraction}.
     */
    public record ActivationStats(String layer, String owner, String kind, long units, double saturated,
                                  double saturatedAtEnd, double neverActive, double zeroFraction) {
        /** The fraction the rules look at: saturated units at the epoch's end for squashing functions, never-active ones for ReLU. */
        public double trouble() { return Double.isNaN(saturated) ? neverActive : saturatedAtEnd; }
    }

    /** What one epoch's sampled steps showed, the warnings it fired, and the seconds the diagnostics took in it. */
    public record EpochReport(int epoch, int samples, List<ParameterStats> parameters, List<ActivationStats> activations,
                              List<Warning> warnings, double seconds) {}

    /**
     * One sampled step, for plots: x = epoch - 1 + step / steps of the epoch, per parameter the
     * gradient norm and update ratio, per activation layer its {@link ActivationStats#trouble} value
     * in that batch (for ReLU: the fraction of outputs that are 0).
     */
    public record Sample(double x, double[] gradNorm, double[] updateRatio, double[] activation) {}

    private final Sequential model;
    private final int every;
    private final Rules rules;
    private final List<Parameter> params;
    private final List<String> paramLayers = new ArrayList<>();   // per parameter, its layer's name
    private final List<Integer> actIndex = new ArrayList<>();     // per activation layer, its index in the model
    private final List<EltwiseKind> actKind = new ArrayList<>();
    private final List<String> actOwner = new ArrayList<>();      // the parametrised layer before it
    private final float[] before;                                  // (P) the weights before the sampled update
    private final List<EpochReport> epochs = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final List<double[]> epochSamples = new ArrayList<>(); // (step, per-sample values) of this epoch

    // per epoch accumulators
    private double[] gradSum, weightSum, ratioSum;
    private long[] saturatedCount, zeroCount, seenCount;
    private boolean[][] everActive;   // per ReLU layer, per unit
    private int sampledThisEpoch, lastStep;
    private boolean sampling;
    private double[] pendingGrad, pendingAct;
    private int pendingStep;
    private long nanos;   // spent in this listener during the epoch
    private long globalStep;   // steps seen since the listener was attached
    private double[] earlySum;  // per activation layer, saturation summed over this epoch's samples in the first earlySteps
    private int earlySamples;

    /** Samples every {@code every}-th step of {@code model} (compiled for training) under {@code rules}. */
    public Diagnostics(Sequential model, int every, Rules rules) {
        if (every < 1) throw new IllegalArgumentException("Diagnostics: every must be >= 1 step, got " + every);
        this.model = model;
        this.every = every;
        this.rules = rules;
        this.params = model.parameters().list();
        for (Parameter p : params) paramLayers.add(p.name().substring(0, p.name().lastIndexOf('.')));
        List<Layer> layers = model.layers();
        String owner = null;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (paramLayers.contains(l.name())) owner = l.name();
            if (l instanceof Activation a) {
                actIndex.add(i);
                actKind.add(a.kind());
                actOwner.add(owner == null ? l.name() : owner);
            }
        }
        this.before = new float[Math.toIntExact(model.parameters().count())];
        resetEpoch();
    }

    /** With {@link Rules#DEFAULT}. */
    public Diagnostics(Sequential model, int every) { this(model, every, Rules.DEFAULT); }

    public int every() { return every; }

    public List<EpochReport> epochs() { return List.copyOf(epochs); }

    public List<Sample> samples() { return List.copyOf(samples); }

    public List<Parameter> parameterList() { return params; }

    /** The names of the activation layers, in the order of {@link Sample#activation} and {@link EpochReport#activations}. */
    public List<String> activationLayers() {
        return actIndex.stream().map(i -> model.layers().get(i).name()).toList();
    }

    /** The parametrised layer each activation layer follows ("c1" for "c1_act"). */
    public List<String> activationOwners() { return List.copyOf(actOwner); }

    private void resetEpoch() {
        int p = params.size(), a = actIndex.size();
        gradSum = new double[p];
        weightSum = new double[p];
        ratioSum = new double[p];
        saturatedCount = new long[a];
        zeroCount = new long[a];
        seenCount = new long[a];
        everActive = new boolean[a][];
        for (int j = 0; j < a; j++) {
            everActive[j] = new boolean[Math.toIntExact(model.outputShapes().get(actIndex.get(j)).elements())];
        }
        sampledThisEpoch = 0;
        lastStep = 0;
        nanos = 0;
        earlySum = new double[a];
        earlySamples = 0;
        epochSamples.clear();
    }

    @Override public void beforeUpdate(int epoch, int step) {
        lastStep = Math.max(lastStep, step);
        boolean early = globalStep++ < rules.earlySteps();
        sampling = step % every == 0;
        if (!sampling) return;
        long t0 = System.nanoTime();
        pendingStep = step;
        pendingGrad = new double[params.size()];
        for (int i = 0; i < params.size(); i++) pendingGrad[i] = norm(params.get(i).grad());
        Tensor values = model.parameters().values();
        if (values.device().isHost()) {
            MemorySegment.copy(values.segment(), ValueLayout.JAVA_FLOAT, 0, before, 0, before.length);
        } else {
            System.arraycopy(values.toFloatArray(), 0, before, 0, before.length);
        }
        pendingAct = new double[actIndex.size()];
        for (int j = 0; j < actIndex.size(); j++) pendingAct[j] = activation(j);
        if (early) {
            earlySamples++;
            for (int j = 0; j < actIndex.size(); j++) earlySum[j] += pendingAct[j];
        }
        nanos += System.nanoTime() - t0;
    }

    @Override public void afterUpdate(int epoch, int step) {
        if (!sampling) return;
        sampling = false;
        long t0 = System.nanoTime();
        Tensor values = model.parameters().values();
        MemorySegment seg = values.device().isHost() ? values.segment()
                : MemorySegment.ofArray(values.toFloatArray());
        double[] ratio = new double[params.size()];
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            double w2 = 0, d2 = 0;
            for (long k = p.offset(), end = p.offset() + p.elements(); k < end; k++) {
                double old = before[(int) k], now = seg.getAtIndex(ValueLayout.JAVA_FLOAT, k);
                w2 += old * old;
                d2 += (now - old) * (now - old);
            }
            ratio[i] = w2 == 0 ? Double.NaN : Math.sqrt(d2 / w2);   // a zero bias has no ratio
            gradSum[i] += pendingGrad[i];
            weightSum[i] += Math.sqrt(w2);
            if (Double.isFinite(ratio[i])) ratioSum[i] += ratio[i];
        }
        sampledThisEpoch++;
        epochSamples.add(concat(pendingStep, pendingGrad, ratio, pendingAct));
        nanos += System.nanoTime() - t0;
    }

    private static double[] concat(int step, double[] a, double[] b, double[] c) {
        double[] all = new double[1 + a.length + b.length + c.length];
        all[0] = step;
        System.arraycopy(a, 0, all, 1, a.length);
        System.arraycopy(b, 0, all, 1 + a.length, b.length);
        System.arraycopy(c, 0, all, 1 + a.length + b.length, c.length);
        return all;
    }

    /** Reads activation layer j's last output and accumulates its statistics; returns this batch's value. */
    private double activation(int j) {
        Tensor out = model.lastOutput(actIndex.get(j));
        EltwiseKind kind = actKind.get(j);
        MemorySegment seg = out.device().isHost() ? out.segment() : MemorySegment.ofArray(out.toFloatArray());
        long n = out.elements();
        boolean[] active = everActive[j];   // ReLU: ever > 0; tanh, sigmoid: ever unsaturated
        int units = active.length;
        double hi = kind == EltwiseKind.SCALED_TANH ? 0.97 * EltwiseKind.SCALED_TANH_A : 0.97;
        long hits = 0;
        for (long k = 0; k < n; k++) {
            float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, k);
            switch (kind) {
                case RELU -> {
                    if (v > 0) active[(int) (k % units)] = true;
                    else hits++;
                }
                case SIGMOID -> {
                    if (v < 0.03f || v > 0.97f || Float.isNaN(v)) hits++;
                    else active[(int) (k % units)] = true;
                }
                default -> {
                    if (Math.abs(v) > hi || Float.isNaN(v)) hits++;
                    else active[(int) (k % units)] = true;
                }
            }
        }
        if (kind == EltwiseKind.RELU) zeroCount[j] += hits;
        else saturatedCount[j] += hits;
        seenCount[j] += n;
        return (double) hits / n;
    }

    private static double norm(Tensor t) {
        MemorySegment seg = t.device().isHost() ? t.segment() : MemorySegment.ofArray(t.toFloatArray());
        double s = 0;
        for (long k = 0, n = t.elements(); k < n; k++) {
            double v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, k);
            s += v * v;
        }
        return Math.sqrt(s);
    }

    @Override public void epochEnd(int epoch) {
        int n = Math.max(1, sampledThisEpoch);
        List<ParameterStats> ps = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            ps.add(new ParameterStats(p.name(), paramLayers.get(i), p.elements(), gradSum[i] / n, weightSum[i] / n,
                    weightSum[i] == 0 ? Double.NaN : ratioSum[i] / n));
        }
        List<ActivationStats> as = new ArrayList<>();
        for (int j = 0; j < actIndex.size(); j++) {
            long seen = Math.max(1, seenCount[j]);
            String name = model.layers().get(actIndex.get(j)).name(), kind = kindName(actKind.get(j));
            int dead = 0;
            for (boolean b : everActive[j]) if (!b) dead++;
            if (actKind.get(j) == EltwiseKind.RELU) {
                as.add(new ActivationStats(name, actOwner.get(j), kind, everActive[j].length, Double.NaN, Double.NaN,
                        (double) dead / everActive[j].length, (double) zeroCount[j] / seen));
            } else {
                long units = model.outputShapes().get(actIndex.get(j)).elements();
                as.add(new ActivationStats(name, actOwner.get(j), kind, units, (double) saturatedCount[j] / seen,
                        lastQuarter(j), (double) dead / units, Double.NaN));
            }
        }
        double steps = lastStep + 1;
        for (double[] s : epochSamples) {
            int p = params.size();
            samples.add(new Sample(epoch - 1 + s[0] / steps, java.util.Arrays.copyOfRange(s, 1, 1 + p),
                    java.util.Arrays.copyOfRange(s, 1 + p, 1 + 2 * p), java.util.Arrays.copyOfRange(s, 1 + 2 * p, s.length)));
        }
        epochs.add(new EpochReport(epoch, sampledThisEpoch, ps, as, sampledThisEpoch == 0 ? List.of() : warnings(epoch, ps, as),
                nanos / 1e9));
        resetEpoch();
    }

    /** The mean of activation layer j's per-batch values over the last quarter (at least one) of this epoch's samples. */
    private double lastQuarter(int j) {
        int n = epochSamples.size(), from = n - Math.max(1, n / 4), column = 1 + 2 * params.size() + j;
        double sum = 0;
        for (int i = from; i < n; i++) sum += epochSamples.get(i)[column];
        return n == 0 ? Double.NaN : sum / (n - from);
    }

    static String kindName(EltwiseKind kind) {
        return switch (kind) {
            case RELU -> "relu";
            case TANH -> "tanh";
            case SCALED_TANH -> "scaled-tanh";
            case SIGMOID -> "sigmoid";
        };
    }

    /** Applies the rules to one epoch's statistics. */
    List<Warning> warnings(int epoch, List<ParameterStats> ps, List<ActivationStats> as) {
        List<Warning> w = new ArrayList<>();
        for (ActivationStats a : as) {
            String what = a.kind().equals("sigmoid") ? "sigmoid < 0.03 or > 0.97"
                    : a.kind().equals("tanh") ? "|tanh| > 0.97" : "|1.7159 tanh(2x/3)| > 0.97 x 1.7159";
            int j = as.indexOf(a);
            double early = earlySamples == 0 ? Double.NaN : earlySum[j] / earlySamples;
            if (!a.kind().equals("relu") && early > rules.saturatedEarly()) {
                w.add(new Warning(epoch, "saturated-early", a.owner(), String.format(Locale.ROOT,
                        "%s: %.0f%% of units saturated in the first %d steps (epoch %d; %s): the initialisation or the learning"
                                + " rate is too large", a.owner(), 100 * early, rules.earlySteps(), epoch, what)));
            } else if (!Double.isNaN(a.saturatedAtEnd()) && a.saturatedAtEnd() > rules.saturated()) {
                w.add(new Warning(epoch, "saturated", a.owner(), String.format(Locale.ROOT,
                        "%s: %.0f%% of units saturated at the end of epoch %d (%s): the learning rate or the initialisation is"
                                + " too large", a.owner(), 100 * a.saturatedAtEnd(), epoch, what)));
            }
            if (a.kind().equals("relu") && a.neverActive() > rules.neverActive()) {
                w.add(new Warning(epoch, "dead", a.owner(), String.format(Locale.ROOT,
                        "%s: %.0f%% of ReLU units never active in epoch %d (dead units): the learning rate is too large, or the"
                                + " initialisation", a.owner(), 100 * a.neverActive(), epoch)));
            }
        }
        ParameterStats low = null, high = null;
        for (ParameterStats p : ps) {
            if (!p.name().endsWith(".weight")) continue;
            if (!Double.isFinite(p.gradNorm()) || !Double.isFinite(p.weightNorm())) {
                w.add(new Warning(epoch, "non-finite", p.layer(), String.format(Locale.ROOT,
                        "%s: gradients or weights are not finite in epoch %d: the learning rate is far too large", p.layer(), epoch)));
                continue;
            }
            if (low == null || p.gradRms() < low.gradRms()) low = p;
            if (high == null || p.gradRms() > high.gradRms()) high = p;
            if (p.updateRatio() > rules.updateHigh()) {
                w.add(new Warning(epoch, "update-high", p.layer(), String.format(Locale.ROOT,
                        "%s: each update changes the weights by %.1f%% in epoch %d (update/weight %.2g; about 1e-3 is healthy):"
                                + " the learning rate is too large", p.layer(), 100 * p.updateRatio(), epoch, p.updateRatio())));
            } else if (p.updateRatio() < rules.updateLow()) {
                w.add(new Warning(epoch, "update-low", p.layer(), String.format(Locale.ROOT,
                        "%s: updates are %.1g of the weights in epoch %d: the learning rate is too small, or the layer stopped learning",
                        p.layer(), p.updateRatio(), epoch)));
            }
        }
        if (low != null && high != low && high.gradRms() > 0 && low.gradRms() / high.gradRms() < rules.vanishing()) {
            w.add(new Warning(epoch, "vanishing", low.layer(), String.format(Locale.ROOT,
                    "gradients of %s are 10^%d of %s's in epoch %d (RMS per weight): vanishing", low.layer(),
                    Math.round(Math.log10(low.gradRms() / high.gradRms())), high.layer(), epoch)));
        }
        return w;
    }
}
