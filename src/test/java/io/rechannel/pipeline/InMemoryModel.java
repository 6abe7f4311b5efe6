package io.rechannel.pipeline;

import io.rechannel.core.ElementType;
import io.rechannel.core.Remix;
import io.rechannel.core.Statistic;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.Progress;
import io.rechannel.format.TensorChange;
import io.rechannel.format.TensorRole;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Node;
import io.rechannel.graph.NodeRole;
import io.rechannel.core.Blocks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small model held in memory, as a format would describe it to the pipeline: an input, a normalisation with a
 * per-channel mean and standard deviation, and two layers reading the normalised channels (each with a kernel in its
 * own layout), plus a head tensor the adaptation leaves alone and Adam-like state for the first kernel. Adapting it
 * through {@link #sink()} gives the adapted model.
 */
final class InMemoryModel implements AdaptableModel {

    static final String NORM = "norm";
    static final String FIRST = "first";
    static final String SECOND = "second";

    private final ModelGraph graph;
    private final ChannelAxis axis;
    final Map<String, NamedTensor> tensors = new LinkedHashMap<>();
    final Map<String, double[]> values = new LinkedHashMap<>();
    private final Map<String, String> slotOf = new LinkedHashMap<>();

    private InMemoryModel(ChannelAxis axis) {
        this.axis = axis;
        this.graph = new ModelGraph(List.of(
                Node.input("input", null, axis),
                new Node(NORM, "Normalization", NodeRole.PER_CHANNEL_CONSTANTS, List.of("input"), null, null, null, null),
                new Node(FIRST, "Conv", NodeRole.MIXES_CHANNELS, List.of(NORM), null, null, null, null),
                new Node(SECOND, "Conv", NodeRole.MIXES_CHANNELS, List.of(NORM), null, null, null, null)));
    }

    /** A model of {@code channels} input channels with kernels laid out as {@code first} and {@code second}. */
    static InMemoryModel random(int channels, TensorRole first, TensorRole second, long seed) {
        Random random = new Random(seed);
        InMemoryModel model = new InMemoryModel(ChannelAxis.FIRST);
        model.put("norm/mean", TensorRole.OTHER, new long[] {channels}, random, 0);
        model.put("norm/std", TensorRole.OTHER, new long[] {channels}, random, 0.5);
        model.put("first/kernel", first, kernelShape(first, channels, 1 + random.nextInt(3), random), random, 0);
        model.put("second/kernel", second, kernelShape(second, channels, 1 + random.nextInt(3), random), random, 0);
        model.put("head/kernel", TensorRole.DENSE_IN_OUT, new long[] {5, 2}, random, 0);
        model.put("optimizer/first/m", TensorRole.OTHER, model.tensors.get("first/kernel").shape(), random, 0);
        model.slotOf.put("first/kernel", "optimizer/first/m");
        return model;
    }

    private static long[] kernelShape(TensorRole role, int channels, int outputs, Random random) {
        int k = 1 + random.nextInt(3);
        return switch (role) {
            case CONV_HWIO -> new long[] {k, k, channels, outputs};
            case CONV_OIHW -> new long[] {outputs, channels, k, k};
            case CONV_TRANSPOSE_HWOI -> new long[] {k, outputs, channels};
            case CONV_TRANSPOSE_IOHW -> new long[] {channels, outputs, k};
            case DENSE_IN_OUT -> new long[] {channels, outputs};
            case LINEAR_OUT_IN -> new long[] {outputs, channels};
            default -> throw new IllegalArgumentException(role.toString());
        };
    }

    private void put(String name, TensorRole role, long[] shape, Random random, double floor) {
        NamedTensor tensor = NamedTensor.of(name, "F64", shape, role);
        double[] data = new double[Math.toIntExact(tensor.elements())];
        for (int i = 0; i < data.length; i++) {
            data[i] = floor + random.nextDouble() * 2 - (floor > 0 ? 0 : 1);
        }
        tensors.put(name, tensor);
        values.put(name, data);
    }

    private InMemoryModel copy() {
        InMemoryModel copy = new InMemoryModel(axis);
        copy.tensors.putAll(tensors);
        values.forEach((k, v) -> copy.values.put(k, v.clone()));
        copy.slotOf.putAll(slotOf);
        return copy;
    }

    @Override
    public String source() {
        return "memory.model";
    }

    @Override
    public ModelGraph graph() {
        return graph;
    }

    @Override
    public ChannelAxis defaultAxis() {
        return axis;
    }

    @Override
    public List<LayerTensor> tensorsOf(Consumer consumer) {
        String id = consumer.node().id();
        if (id.equals(NORM)) {
            return List.of(
                    LayerTensor.constant(tensors.get("norm/mean"), "mean", "mean", Statistic.MEAN, false),
                    LayerTensor.constant(tensors.get("norm/std"), "std", "std", Statistic.STD, false));
        }
        return List.of(LayerTensor.kernel(tensors.get(id + "/kernel"), LayerTensor.Part.KERNEL, "kernel", "kernel"));
    }

    @Override
    public List<NamedTensor> slotsOf(NamedTensor weight) {
        String slot = slotOf.get(weight.name());
        return slot == null ? List.of() : List.of(tensors.get(slot));
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return values.get(tensor.name()).clone();
    }

    @Override
    public ElementType elementType(NamedTensor tensor) {
        return ElementType.FLOAT64;
    }

    @Override
    public StoredTensors stored() {
        InMemoryModel self = this;
        return new Adapted() {
            @Override
            public InMemoryModel model() {
                return self;
            }

            @Override
            public List<String> names() {
                return new ArrayList<>(tensors.keySet());
            }

            @Override
            public boolean has(String name) {
                return tensors.containsKey(name);
            }

            @Override
            public boolean same(String name, StoredTensors other, Progress progress) {
                InMemoryModel that = ((Adapted) other).model();
                return Arrays.equals(self.tensors.get(name).shape(), that.tensors.get(name).shape())
                        && Arrays.equals(self.values.get(name), that.values.get(name));
            }

            @Override
            public long bytes() {
                return 0;
            }

            @Override
            public boolean hasOptimizerState() {
                return !slotOf.isEmpty();
            }

            @Override
            public boolean isOptimizerState(String name) {
                return slotOf.containsValue(name);
            }
        };
    }

    /** What {@link #stored()} returns, for the comparison to reach the other model. */
    private interface Adapted extends StoredTensors {
        InMemoryModel model();
    }

    /** A sink writing into a copy of this model: after {@link Adaptation#apply}, the copy is the adapted model. */
    Sink sink() {
        return new Sink(copy(), this);
    }

    /** Writes edits into a copy. */
    static final class Sink implements EditSink {
        final InMemoryModel adapted;
        private final InMemoryModel original;

        Sink(InMemoryModel adapted, InMemoryModel original) {
            this.adapted = adapted;
            this.original = original;
        }

        @Override
        public TensorChange remix(PlannedTensor tensor, Remix remix, TensorChange change) {
            long[] shape = remix.newShape();
            double[] out = new double[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
            remix.run(original.reader(tensor.tensor()), Blocks.writer(out, shape), ElementType.FLOAT64);
            store(tensor, shape, out);
            return change;
        }

        @Override
        public TensorChange replace(PlannedTensor tensor, long[] newShape, double[] values, TensorChange change) {
            store(tensor, newShape, values);
            return change;
        }

        private void store(PlannedTensor tensor, long[] shape, double[] values) {
            NamedTensor old = tensor.tensor();
            adapted.tensors.put(old.name(), new NamedTensor(old.name(), old.dtype(), shape, old.role(), old.optimizerOf()));
            adapted.values.put(old.name(), values);
        }
    }
}
