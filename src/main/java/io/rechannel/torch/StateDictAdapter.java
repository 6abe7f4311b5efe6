package io.rechannel.torch;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.Mixing;
import io.rechannel.core.ChannelStats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

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
            double[] values = ChannelMixer.remapConstants(store.read(c.tensor()), c.view(), map);
            boolean mean = StateDictPlanner.localName(c.tensor()).endsWith("mean");
            applyStats(values, c.view(), mean ? ChannelStats::mean : ChannelStats::std);
            edits.add(edit(c, values));
        }
        for (StateDictPlanner.Target s : plan.slots()) {
            edits.add(edit(s, ChannelMixer.remix(store.read(s.tensor()), s.view(), Mixing.state(map))));
        }
        return edits;
    }

    /** One line per changed tensor, for the report. */
    static List<String> describe(List<TensorEdit> edits, StateDictPlanner.Plan plan, ChannelMap map) {
        List<String> lines = new ArrayList<>();
        for (TensorEdit e : edits) {
            String role = plan.weights().stream().anyMatch(t -> t.tensor().equals(e.tensor())) ? map.kernelChange()
                    : plan.constants().stream().anyMatch(t -> t.tensor().equals(e.tensor())) ? "per-channel constants"
                    : "optimizer state";
            lines.add(e.tensor().name() + " " + e.tensor().shapeList() + " -> " + Arrays.toString(e.shape()) + " (" + role + ")");
        }
        return lines;
    }

    private TensorEdit edit(StateDictPlanner.Target target, double[] values) {
        long[] shape = target.tensor().shape();
        shape[target.axis()] = map.newCount();
        return new TensorEdit(target.tensor(), shape, target.tensor().dtype().encode(values));
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

    private void applyStats(double[] values, AxisView view, ToDoubleFunction<ChannelStats> pick) {
        AxisView out = view.withCount(map.newCount());
        for (Map.Entry<String, ChannelStats> entry : options.stats().entrySet()) {
            out.fillChannel(values, map.to().indexOf(entry.getKey()), pick.applyAsDouble(entry.getValue()));
        }
    }
}
