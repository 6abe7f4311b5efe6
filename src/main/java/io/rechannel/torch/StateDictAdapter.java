package io.rechannel.torch;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.ElementType;
import io.rechannel.core.Mixing;
import io.rechannel.core.ChannelStats;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorStore;
import io.rechannel.core.PerChannelConstants;
import io.rechannel.core.Statistic;
import io.rechannel.format.TensorChange;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a plan and a channel map into tensor edits, with the core's mixer: weights mixed by M,
 * per-channel buffers re-indexed ({@code --stats} giving a new channel's own mean and std), optimizer
 * slots re-indexed (new channels start at zero). {@code --init timm} is computed as timm computes it, in
 * float32 term by term, so that the result is bit-identical to timm's {@code adapt_input_conv}.
 */
final class StateDictAdapter {

    private final TensorStore store;
    private final ChannelMap map;
    private final AdaptOptions options;
    private final boolean timm;

    StateDictAdapter(TensorStore store, ChannelMap map, AdaptOptions options) {
        this.store = store;
        this.map = map;
        this.options = options;
        this.timm = options.inits().stream().anyMatch(r -> r.trim().toLowerCase(Locale.ROOT).equals("timm"));
    }

    List<TensorEdit> edits(StateDictPlanner.Plan plan) {
        List<TensorEdit> edits = new ArrayList<>();
        for (StateDictPlanner.Target w : plan.weights()) {
            double[] old = store.read(w.tensor());
            double[] mixed = timm && !map.hasFreshChannels() ? inFloat32(old, w.view())
                    : ChannelMixer.mixWeight(old, w.view(), map, map.seed() ^ w.tensor().name().hashCode());
            edits.add(edit(w, mixed));
        }
        for (StateDictPlanner.Target c : plan.constants()) {
            edits.add(edit(c, PerChannelConstants.adapt(store.read(c.tensor()), c.view(), map, statistic(c),
                    options.stats(), elementType(Dtype.of(c.tensor())), store.file() + ": '" + c.tensor().name() + "'")));
        }
        for (StateDictPlanner.Target s : plan.slots()) {
            edits.add(edit(s, ChannelMixer.remix(store.read(s.tensor()), s.view(), Mixing.state(map))));
        }
        return edits;
    }

    /**
     * Refuses statistics for new channels when the state dict holds no pixel_mean or pixel_std to take them and
     * the preprocessing outside the model is not known either ({@code outsideKnown}: they go to the input contract).
     */
    static void checkStats(StateDictPlanner.Plan plan, AdaptOptions options, String source, boolean outsideKnown) {
        PerChannelConstants.checkStatsTargets(options.stats(), plan.constants().stream()
                .map(c -> new PerChannelConstants.Target("'" + c.tensor().name() + "'", statistic(c), 1)).toList(),
                source, null, "pixel_mean or pixel_std buffer", outsideKnown);
    }

    /** What a per-channel buffer holds: {@code pixel_mean} the mean, {@code pixel_std} the standard deviation. */
    private static Statistic statistic(StateDictPlanner.Target constant) {
        return StateDictPlanner.localName(constant.tensor()).endsWith("mean") ? Statistic.MEAN : Statistic.STD;
    }

    /** The range a floating dtype holds (bfloat16 has float32's). */
    private static ElementType elementType(Dtype dtype) {
        return switch (dtype) {
            case F64 -> ElementType.FLOAT64;
            case F16 -> ElementType.FLOAT16;
            default -> ElementType.FLOAT32;
        };
    }

    /** Every changed tensor with its shapes, for the report; a kernel labelled with what {@code map} did to it. */
    static List<TensorChange> describe(List<TensorEdit> edits, StateDictPlanner.Plan plan, ChannelMap map) {
        List<TensorChange> changes = new ArrayList<>();
        for (TensorEdit e : edits) {
            if (plan.weights().stream().anyMatch(t -> t.tensor().equals(e.tensor()))) {
                changes.add(TensorChange.kernel(e.tensor().name(), e.tensor().shape(), e.shape(), map));
            } else {
                TensorChange.Kind kind = plan.constants().stream().anyMatch(t -> t.tensor().equals(e.tensor()))
                        ? TensorChange.Kind.CONSTANTS : TensorChange.Kind.OPTIMIZER_STATE;
                changes.add(TensorChange.of(e.tensor().name(), e.tensor().shape(), e.shape(), kind));
            }
        }
        return changes;
    }

    private TensorEdit edit(StateDictPlanner.Target target, double[] values) {
        long[] shape = target.view().resizedShape(target.tensor().shape(), target.axis(), map.newCount());
        return TensorEdit.whole(target.tensor(), shape, () -> values);
    }

    /**
     * timm's arithmetic: the weight is converted to float32 and each new channel is the float32 sum, in
     * channel order, of float32 products with float32 coefficients. Each term is one mixer pass with one
     * column of M (exact in double, then rounded once), so only the order of roundings is timm's.
     */
    private double[] inFloat32(double[] old, AxisView view) {
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
