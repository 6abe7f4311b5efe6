package io.rechannel.pipeline;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.Shapes;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.Progress;
import io.rechannel.format.Verification;
import io.rechannel.graph.Consumer;
import io.rechannel.verify.Verifier;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Proves, for any format, that an adapted model is the original with its input channels mapped. Both models are
 * planned alike and their planned tensors paired by layer and key: every tap of each mixed kernel is checked (a
 * separable convolution as the one kernel it amounts to), kept channels keep their constants and optimizer state
 * exactly (new channels' state is zero), changed tensors have the shapes the map gives, and every other stored
 * tensor holds the same bytes. The map is the one given or recovered from the first kernel.
 */
public final class PlanVerifier {

    /** What was compared: both plans and the map (null when none could be established: a problem is recorded). */
    public record Outcome(AdaptationPlan before, AdaptationPlan after, ChannelMap map) {
    }

    private final AdaptableModel original;
    private final AdaptableModel adapted;
    private final Verification verification;

    private PlanVerifier(AdaptableModel original, AdaptableModel adapted, Verification verification) {
        this.original = original;
        this.adapted = adapted;
        this.verification = verification;
    }

    /** Checks {@code adapted} against {@code original}, recording into {@code verification}. */
    public static Outcome verify(AdaptableModel original, AdaptableModel adapted, AdaptOptions options,
                                 Verification verification) {
        return new PlanVerifier(original, adapted, verification).verify(options);
    }

    private Outcome verify(AdaptOptions options) {
        boolean dropped = original.stored().hasOptimizerState() && !adapted.stored().hasOptimizerState();
        AdaptOptions analysis = dropped ? options.analysisOnly().dropOptimizer() : options.analysisOnly();
        AdaptationPlan before = Planner.plan(original, analysis);
        AdaptationPlan after = Planner.plan(adapted, analysis);
        ChannelMap map = channelMap(options, before, after);
        if (map != null) {
            for (PlannedTensor kernel : before.kernels()) {
                checkKernel(before, after, kernel, map);
            }
            for (PlannedTensor constant : before.constants()) {
                PlannedTensor now = constantIn(after, constant);
                if (now != null && hasNewShape(constant, now, map)) {
                    verification.keptChannels("'" + constant.name() + "' of layer '" + constant.node() + "'",
                            original.read(constant.tensor()), constant.view(), adapted.read(now.tensor()),
                            constant.sliced(map), false);
                }
            }
            for (PlannedTensor slot : before.slots()) {
                PlannedTensor now = counterpart(after.slots(), slot);
                if (now != null && hasNewShape(slot, now, map)) {
                    verification.keptChannels("'" + slot.name() + "' (optimizer state of layer '" + slot.node() + "')",
                            original.read(slot.tensor()), slot.view(), adapted.read(now.tensor()), slot.sliced(map), true);
                }
            }
        }
        compareUnchanged(before.changedNames(), dropped);
        return new Outcome(before, after, map);
    }

    private void checkKernel(AdaptationPlan before, AdaptationPlan after, PlannedTensor kernel, ChannelMap map) {
        PlannedTensor now = counterpart(after.kernels(), kernel);
        if (now == null || !hasNewShape(kernel, now, map) || kernel.change() == PlannedTensor.Change.PATTERN) {
            return; // a depthwise kernel is checked with its pointwise kernel, as one composed kernel
        }
        PlannedTensor depthwise = before.partner(kernel, LayerTensor.Part.DEPTHWISE_KERNEL);
        double tolerance = tolerance(kernel.tensor());
        if (depthwise != null) {
            Composed a = Composed.of(original, depthwise, kernel);
            Composed b = composedAfter(after, now);
            verification.taps(kernel.node(), kernel.layer().label(), a.kernel(), a.view(), b.kernel(), b.view(), map,
                    Math.max(tolerance, Verifier.RELATIVE_TOLERANCE));
        } else {
            verification.taps(kernel.node(), kernel.layer().label(), stored(original, kernel, kernel.view()),
                    stored(adapted, now, now.view()), kernel.sliced(map), tolerance);
        }
    }

    private ChannelMap channelMap(AdaptOptions options, AdaptationPlan before, AdaptationPlan after) {
        PlannedTensor first = before.mixed().get(0);
        return verification.channelMap(options, before.channels(), after.channels(), "layer '" + first.node() + "'",
                (from, to) -> {
                    PlannedTensor now = counterpart(after.kernels(), first);
                    if (now == null) {
                        return null;
                    }
                    PlannedTensor depthwise = before.partner(first, LayerTensor.Part.DEPTHWISE_KERNEL);
                    if (depthwise != null) {
                        Composed a = Composed.of(original, depthwise, first);
                        Composed b = composedAfter(after, now);
                        return Verifier.recover(a.kernel(), a.view(), b.kernel(), b.view(), from, to);
                    }
                    // the first slice alone: a layer reading the input more than once repeats the same map
                    return Verifier.recover(stored(original, first, first.view().firstChannels(from.size())),
                            stored(adapted, now, now.view().firstChannels(to.size())), from, to, Blocks.budget());
                });
    }

    /** The adapted model's separable layer whose pointwise kernel is {@code pointwise}, as one kernel. */
    private Composed composedAfter(AdaptationPlan after, PlannedTensor pointwise) {
        return Composed.of(adapted, after.partner(pointwise, LayerTensor.Part.DEPTHWISE_KERNEL), pointwise);
    }

    /** The planned tensor of the same layer and key in the adapted model; a problem when there is none. */
    private PlannedTensor counterpart(List<PlannedTensor> candidates, PlannedTensor old) {
        for (PlannedTensor c : candidates) {
            if (c.pairs(old)) {
                return c;
            }
        }
        verification.notReading("the " + old.layer().label() + " of layer '" + old.node() + "'");
        return null;
    }

    /**
     * The adapted model's constant where the original has {@code old}: looked up in the layer itself, not in the
     * adapted plan, where a constant of one channel (RGB to L) may be a single broadcast value. Such a layer may
     * not even count as holding constants in the adapted graph (an ONNX Sub of a scalar): it is then asked for by
     * the original's description of it, and a model that cannot give it does not read the input there.
     */
    private PlannedTensor constantIn(AdaptationPlan after, PlannedTensor old) {
        Consumer layer = after.dependency().constants().stream().filter(c -> c.node().id().equals(old.node()))
                .findFirst().orElse(null);
        Consumer owner = layer != null ? layer : old.consumer();
        for (LayerTensor t : layer != null ? adapted.tensorsOf(layer) : asBefore(old.consumer())) {
            if (t.key().equals(old.layer().key())) {
                return new PlannedTensor(owner, t, null, old.dim(), old.change(), null);
            }
        }
        verification.notReading("the " + old.layer().label() + " of layer '" + old.node() + "'");
        return null;
    }

    /** The adapted model's tensors of a layer as the original describes it; none where it cannot give them. */
    private List<LayerTensor> asBefore(Consumer layer) {
        try {
            return adapted.tensorsOf(layer);
        } catch (RechannelException e) {
            return List.of();
        }
    }

    /** True when the adapted tensor has the original's type and the shape the map gives; else a problem. */
    private boolean hasNewShape(PlannedTensor old, PlannedTensor now, ChannelMap map) {
        long[] expected = old.newShape(old.sliced(map).newCount());
        NamedTensor t = now.tensor();
        boolean scalarForOne = t.elements() == 1 && expected.length > 0 && Shapes.count(expected) == 1;
        if ((Arrays.equals(t.shape(), expected) || scalarForOne) && t.dtype().equals(old.tensor().dtype())) {
            return true;
        }
        verification.problem(verification.adapted() + ": '" + t.name() + "' (the " + old.layer().label() + " of layer '"
                + old.node() + "') should be " + old.tensor().dtype() + " " + Arrays.toString(expected) + ", is "
                + t.dtype() + " " + t.shapeList());
        return false;
    }

    private static StoredTensor stored(AdaptableModel model, PlannedTensor tensor, AxisView view) {
        return new StoredTensor(TensorLayout.of(tensor.tensor().shape(), view, tensor.dim()), model.reader(tensor.tensor()));
    }

    /** How closely taps must agree: half-precision weights hold fewer digits. */
    private static double tolerance(NamedTensor tensor) {
        return switch (tensor.dtype()) {
            case "F16" -> 0x1p-10;
            case "BF16" -> 0x1p-7;
            default -> Verifier.RELATIVE_TOLERANCE;
        };
    }

    /** Every stored tensor the adaptation leaves alone, byte for byte; the original first, so that its damage is its own. */
    private void compareUnchanged(Set<String> changed, boolean dropped) {
        StoredTensors a = original.stored();
        StoredTensors b = adapted.stored();
        try (Progress progress = Progress.of("comparing " + Path.of(verification.adapted()).getFileName()
                + " with the original", a.bytes())) {
            for (String name : a.names()) {
                if (!changed.contains(name)) {
                    verification.unchanged(a.describe(name), b.has(name), dropped && a.isOptimizerState(name),
                            () -> a.same(name, b, progress));
                }
            }
        }
    }

    /** A separable convolution as the one kernel it amounts to: K[p][c][o] = Σ_m D[p][c][m] · P[c·mult + m][o]. */
    private record Composed(double[] kernel, AxisView view) {

        static Composed of(AdaptableModel model, PlannedTensor depthwise, PlannedTensor pointwise) {
            double[] d = model.read(depthwise.tensor());
            double[] p = model.read(pointwise.tensor());
            long[] shape = depthwise.tensor().shape();
            long[] pShape = pointwise.tensor().shape();
            int positions = (int) depthwise.view().outer();
            int channels = (int) shape[shape.length - 2];
            int mult = (int) shape[shape.length - 1];
            int out = (int) pShape[pShape.length - 1];
            double[] k = new double[positions * channels * out];
            for (int pos = 0; pos < positions; pos++) {
                for (int c = 0; c < channels; c++) {
                    for (int m = 0; m < mult; m++) {
                        double dv = d[(pos * channels + c) * mult + m];
                        for (int o = 0; o < out; o++) {
                            k[(pos * channels + c) * out + o] += dv * p[(c * mult + m) * out + o];
                        }
                    }
                }
            }
            return new Composed(k, AxisView.whole(positions, channels, out));
        }
    }
}
