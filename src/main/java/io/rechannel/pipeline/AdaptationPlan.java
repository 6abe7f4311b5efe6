package io.rechannel.pipeline;

import io.rechannel.core.PerChannelConstants;
import io.rechannel.graph.ChannelDependency;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Everything that changes when one input's channels are mapped, for any format.
 *
 * @param source     the file, as messages name it
 * @param dependency the graph analysis: the layers reading the channels and every tensor carrying them
 * @param channels   the input's channel count
 * @param kernels    the weights of the layers mixing the channels (a separable convolution's two), in graph order
 * @param constants  per-channel constants of the layers between the input and those layers
 * @param slots      optimizer state of the kernels (none when the optimizer state is dropped)
 * @param lists      per-channel values recorded in layer descriptions
 */
public record AdaptationPlan(String source, ChannelDependency dependency, int channels, List<PlannedTensor> kernels,
                             List<PlannedTensor> constants, List<PlannedTensor> slots, List<PlannedList> lists) {

    public AdaptationPlan {
        kernels = List.copyOf(kernels);
        constants = List.copyOf(constants);
        slots = List.copyOf(slots);
        lists = List.copyOf(lists);
    }

    /** The input's name in the graph. */
    public String input() {
        return dependency.input();
    }

    /** Every planned tensor: kernels, constants, optimizer state. */
    public List<PlannedTensor> tensors() {
        List<PlannedTensor> all = new ArrayList<>(kernels);
        all.addAll(constants);
        all.addAll(slots);
        return all;
    }

    /** The names of every tensor that changes. */
    public Set<String> changedNames() {
        Set<String> names = new LinkedHashSet<>();
        tensors().forEach(t -> names.add(t.name()));
        return names;
    }

    /** The kernels mixed by the map itself (a separable convolution's pointwise kernel, not its depthwise one). */
    public List<PlannedTensor> mixed() {
        return kernels.stream().filter(k -> k.change() == PlannedTensor.Change.MIX).toList();
    }

    /** The constants and recorded lists that take the user's statistics for new channels. */
    public List<PerChannelConstants.Target> statisticTargets() {
        return Stream.concat(
                constants.stream().filter(c -> c.statistic() != null)
                        .map(c -> new PerChannelConstants.Target("'" + c.node() + "'", c.statistic(),
                                c.consumer().segment().slices())),
                lists.stream().filter(l -> l.statistic() != null)
                        .map(l -> new PerChannelConstants.Target("'" + l.node() + "'", l.statistic(),
                                l.consumer().segment().slices()))).toList();
    }

    /** The optimizer state planned for {@code kernel}. */
    public List<PlannedTensor> slotsOf(PlannedTensor kernel) {
        return slots.stream().filter(s -> s.node().equals(kernel.node())
                && s.layer().key().startsWith(kernel.layer().key() + ":")).toList();
    }

    /** The kernel of the same layer playing {@code part} (a separable convolution's other kernel), or null. */
    public PlannedTensor partner(PlannedTensor kernel, LayerTensor.Part part) {
        return kernels.stream().filter(k -> k.node().equals(kernel.node()) && k.layer().part() == part)
                .findFirst().orElse(null);
    }
}
