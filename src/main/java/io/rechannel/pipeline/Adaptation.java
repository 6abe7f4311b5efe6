package io.rechannel.pipeline;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.ElementType;
import io.rechannel.core.Mixing;
import io.rechannel.core.PerChannelConstants;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Remix;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.TensorChange;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Applies a channel map to a plan, for any format: kernels and optimizer state are re-mixed block by block
 * (their size does not matter), per-channel constants and recorded lists re-indexed with the user's statistics
 * for new channels. Every value read must be finite and every value written must fit the tensor's type.
 */
public final class Adaptation {

    private final AdaptableModel model;
    private final AdaptationPlan plan;
    private final ChannelMap map;
    private final AdaptOptions options;
    private final boolean timm;

    public Adaptation(AdaptableModel model, AdaptationPlan plan, ChannelMap map, AdaptOptions options) {
        this.model = model;
        this.plan = plan;
        this.map = map;
        this.options = options;
        this.timm = model.timmInFloat32()
                && options.inits().stream().anyMatch(r -> r.trim().toLowerCase(Locale.ROOT).equals("timm"));
    }

    /**
     * Refuses statistics for new channels that no constant of the model would take, unless the preprocessing
     * outside the model is known ({@code outsideKnown}: they go to the input contract); {@code searched} says what
     * the format's normalisations are ({@code Normalization or BatchNormalization layer}).
     */
    public Adaptation checkStatistics(boolean outsideKnown, String searched) {
        PerChannelConstants.checkStatsTargets(options.stats(), plan.statisticTargets(), plan.source(),
                plan.dependency().input(), searched, outsideKnown);
        return this;
    }

    /** True when the user's statistics go to a normalisation inside the model (else to the input contract). */
    public boolean statisticsGoInside() {
        return !plan.statisticTargets().isEmpty();
    }

    /** Applies every change through {@code sink}; returns the changed tensors with their shapes. */
    public List<TensorChange> apply(EditSink sink) {
        List<TensorChange> changes = new ArrayList<>();
        for (PlannedTensor kernel : plan.kernels()) {
            ChannelMap sliced = kernel.sliced(map);
            ChannelMap used = sliced;
            if (plan.partner(kernel, LayerTensor.Part.DEPTHWISE_KERNEL) != null
                    || kernel.layer().part() == LayerTensor.Part.DEPTHWISE_KERNEL) {
                if (!map.hasSingleSourceRows()) {
                    throw RechannelException.inexact(plan.source() + ": layer '" + kernel.node() + "' ("
                            + kernel.consumer().node().type() + ") filters each input channel separately before mixing,"
                            + " so a new channel can only copy (or scale, or zero) one old channel there: use rules like"
                            + " Y=B or Y=0");
                }
                used = kernel.change() == PlannedTensor.Change.PATTERN ? map.support() : map;
            }
            long[] newShape = kernel.newShape(sliced.newCount());
            TensorChange change = change(kernel, newShape, TensorChange.Kind.MIXED).labelled(sliced.kernelChange());
            ElementType type = model.elementType(kernel.tensor());
            if (timm && type.floating() && !map.hasFreshChannels() && kernel.change() == PlannedTensor.Change.MIX
                    && kernel.view().count() == kernel.view().axisLength()) {
                String where = plan.source() + ": '" + kernel.name() + "'";
                double[] old = model.read(kernel.tensor());
                ChannelMixer.checkSource(old, type, where);
                double[] mixed = inFloat32(old, kernel.view(), sliced);
                ChannelMixer.checkResult(mixed, type, where);
                changes.add(sink.replace(kernel, newShape, mixed, change));
            } else {
                changes.add(remix(sink, kernel, Mixing.kernel(used, map.seed() ^ kernel.name().hashCode()), change));
            }
            for (PlannedTensor slot : plan.slotsOf(kernel)) {
                changes.add(remix(sink, slot, Mixing.state(sliced),
                        change(slot, slot.newShape(sliced.newCount()), TensorChange.Kind.OPTIMIZER_STATE)));
            }
        }
        for (PlannedTensor constant : plan.constants()) {
            ChannelMap sliced = constant.sliced(map);
            double[] values = PerChannelConstants.adapt(model.read(constant.tensor()), constant.view(), sliced,
                    constant.statistic(), options.stats(), model.elementType(constant.tensor()),
                    plan.source() + ": '" + constant.name() + "'");
            long[] shape = constant.newShape(sliced.newCount());
            changes.add(sink.replace(constant, shape, values, change(constant, shape, TensorChange.Kind.CONSTANTS)));
        }
        return changes;
    }

    /** Re-indexes the per-channel lists layers record; returns one line per list, for the report. */
    public List<String> applyLists(EditSink sink) {
        List<String> lines = new ArrayList<>();
        for (PlannedList list : plan.lists()) {
            double[] old = list.list().values();
            Segment segment = list.consumer().segment();
            AxisView view = new AxisView(1, old.length, 1, segment.offset(), segment.span(plan.channels()));
            double[] values = PerChannelConstants.adapt(old, view, segment.map(map), list.statistic(), options.stats(),
                    ElementType.FLOAT64, plan.source() + ": layer '" + list.node() + "' " + list.list().key());
            lines.add(sink.replace(list, values));
        }
        return lines;
    }

    private TensorChange remix(EditSink sink, PlannedTensor tensor, Mixing mixing, TensorChange change) {
        TensorLayout layout = TensorLayout.of(tensor.tensor().shape(), tensor.view(), tensor.dim());
        return sink.remix(tensor, new Remix(plan.source() + ": '" + tensor.name() + "'", layout, mixing), change);
    }

    private static TensorChange change(PlannedTensor tensor, long[] newShape, TensorChange.Kind kind) {
        return TensorChange.of(tensor.name(), tensor.tensor().shape(), newShape, kind);
    }

    /**
     * {@code --init timm} computed as timm computes it: the weight converted to float32, each new channel the
     * float32 sum, in channel order, of float32 products with float32 coefficients. Each term is one mixer pass with
     * one column of M (exact in double, then rounded once), so only the order of roundings is timm's; the result is
     * bit-identical to timm's {@code adapt_input_conv}.
     */
    private static double[] inFloat32(double[] old, AxisView view, ChannelMap map) {
        double[] single = new double[old.length];
        for (int k = 0; k < old.length; k++) {
            single[k] = (float) old[k];
        }
        double[][] m = map.matrix();
        double[] sum = null;
        for (int i = 0; i < map.oldCount(); i++) {
            double[][] column = new double[map.newCount()][map.oldCount()];
            for (int j = 0; j < map.newCount(); j++) {
                column[j][i] = (float) m[j][i];
            }
            double[] term = ChannelMixer.mixWeight(single, view, ChannelMap.ofMatrix(map.from(), map.to(), column), 0);
            if (sum == null) {
                sum = term;
            } else {
                for (int k = 0; k < sum.length; k++) {
                    sum[k] = (float) (sum[k] + (float) term[k]);
                }
            }
        }
        for (int k = 0; k < sum.length; k++) {
            sum[k] = (float) sum[k];
        }
        return sum;
    }
}
