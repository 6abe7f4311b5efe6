package io.rechannel.pipeline;

import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Statistic;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.Progress;
import io.rechannel.format.TensorRole;
import io.rechannel.format.TensorStore;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Node;
import io.rechannel.graph.NodeRole;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A model without a graph (a PyTorch state dict, safetensors) as the pipeline reads it. The layers reading the
 * input are the weights named by the user ({@code tensors}), or else the one weight named like a known input
 * layer ({@code conv1}, {@code stem}, {@code conv_stem}, {@code patch_embed.proj}, {@code features.0}, ...), in
 * PyTorch's layout with the input channels on axis 1; per-channel preprocessing stored as buffers
 * ({@code pixel_mean}, {@code pixel_std} of detectron2-style models) sits in front of them. The graph built from
 * them is what the rest of the pipeline plans on.
 */
public final class GraphlessModel implements AdaptableModel {

    /** Module paths of input layers in timm, torchvision, Hugging Face and detectron2 models. */
    private static final Pattern STEM = Pattern.compile(
            "(?:(?:module|model|backbone|encoder|bottom_up|body|net|network|base_model|vision_model|visual|trunk|"
                    + "timm_model|image_encoder|feature_extractor|vision_tower|vit|resnet|convnext|features)\\.)*"
                    + "(?:conv1|conv1\\.0|conv_stem|conv0|stem|stem\\.conv|stem\\.conv1|stem\\.0|stem\\.0\\.conv|stem\\.proj"
                    + "|stem_conv|patch_embed\\.proj|patch_embed|features\\.0|features\\.0\\.0|features\\.conv0"
                    + "|embeddings\\.patch_embeddings\\.projection|embeddings\\.patch_embeddings|embeddings\\.patch_embedding"
                    + "|embedder\\.embedder\\.convolution|Conv2d_1a_3x3\\.conv|first_conv|input_conv|inc\\.double_conv\\.0)"
                    + "\\.weight");

    private static final Pattern NORMALIZATION = Pattern.compile("(?:.*\\.)?pixel_(mean|std)");

    private static final String INPUT = "input";
    private static final String PREPROCESSING = "pixel normalisation";

    private final TensorStore store;
    private final String source;
    private final List<NamedTensor> weights;
    private final List<NamedTensor> buffers;
    private final ModelGraph graph;

    private GraphlessModel(TensorStore store, List<String> named) {
        this.store = store;
        this.source = store.file().toString();
        this.weights = named.isEmpty() ? chooseByName() : named.stream().map(this::find).toList();
        int channels = checkWeights();
        this.buffers = buffers(channels);
        List<Node> nodes = new ArrayList<>();
        nodes.add(Node.input(INPUT, null, ChannelAxis.FIRST));
        String feeding = INPUT;
        if (!buffers.isEmpty()) {
            nodes.add(new Node(PREPROCESSING, "per-channel buffers", NodeRole.PER_CHANNEL_CONSTANTS, List.of(INPUT), null,
                    ChannelAxis.FIRST, null, null));
            feeding = PREPROCESSING;
        }
        for (NamedTensor weight : weights) {
            nodes.add(new Node(weight.name(), "weight [out, in, ...]", NodeRole.MIXES_CHANNELS, List.of(feeding), null,
                    ChannelAxis.FIRST, null, null));
        }
        this.graph = new ModelGraph(nodes);
    }

    /** The model of a state dict whose input layers are {@code named} (empty: chosen by name). */
    public static GraphlessModel of(TensorStore store, List<String> named) {
        return new GraphlessModel(store, named);
    }

    /** The input as found by name: the weights reading it and its per-channel buffers; empty when none or several. */
    public static Optional<TensorStore.ModelInput> input(TensorStore store) {
        try {
            GraphlessModel model = new GraphlessModel(store, List.of());
            return Optional.of(new TensorStore.ModelInput(Math.toIntExact(model.weights.get(0).shape()[1]),
                    model.weights.stream().map(NamedTensor::name).toList(),
                    model.buffers.stream().map(NamedTensor::name).toList()));
        } catch (RechannelException e) {
            return Optional.empty();
        }
    }

    /** The weights reading the input. */
    public List<NamedTensor> weights() {
        return weights;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public ModelGraph graph() {
        return graph;
    }

    @Override
    public ChannelAxis defaultAxis() {
        return ChannelAxis.FIRST;
    }

    @Override
    public List<LayerTensor> tensorsOf(Consumer consumer) {
        if (consumer.node().id().equals(PREPROCESSING)) {
            return buffers.stream().map(b -> LayerTensor.constant(b, b.name(), b.name(),
                    localName(b).endsWith("mean") ? Statistic.MEAN : Statistic.STD, false)).toList();
        }
        NamedTensor weight = weights.stream().filter(w -> w.name().equals(consumer.node().id())).findFirst().orElseThrow();
        TensorRole role = weight.shape().length == 2 ? TensorRole.LINEAR_OUT_IN : TensorRole.CONV_OIHW;
        return List.of(LayerTensor.kernel(weight.withRole(role), LayerTensor.Part.KERNEL, "weight", "weight"));
    }

    /**
     * Optimizer state is keyed by the parameter's index, not its name: a weight's state is that of the one index
     * whose state has its shape, accepted only when no other model tensor has that shape (true of an input layer,
     * whose channel count is unusual).
     */
    @Override
    public List<NamedTensor> slotsOf(NamedTensor weight) {
        List<NamedTensor> optimizer = store.tensors().stream().filter(NamedTensor::isOptimizerSlot).toList();
        long[] shape = weight.shape();
        Map<String, List<NamedTensor>> byParam = new LinkedHashMap<>();
        optimizer.stream().filter(s -> Arrays.equals(s.shape(), shape))
                .forEach(s -> byParam.computeIfAbsent(s.optimizerOf(), k -> new ArrayList<>()).add(s));
        if (byParam.isEmpty()) {
            return List.of();
        }
        List<NamedTensor> sameShape = model().stream().filter(t -> Arrays.equals(t.shape(), shape)).toList();
        if (byParam.size() > 1 || sameShape.size() > 1) {
            throw RechannelException.unsupported(source + ": the optimizer state of '" + weight.name()
                    + "' cannot be told from that of " + (sameShape.size() > 1 ? describe(sameShape)
                    : "parameters " + byParam.keySet()) + " (same shape " + weight.shapeList()
                    + "; optimizer state is keyed by index, not name); " + OptionName.DROP_OPTIMIZER
                    + " removes the optimizer state instead");
        }
        return byParam.values().iterator().next();
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return store.read(tensor);
    }

    @Override
    public Blocks.Reader reader(NamedTensor tensor) {
        return store.reader(tensor);
    }

    @Override
    public ElementType elementType(NamedTensor tensor) {
        return tensor.elementType();
    }

    @Override
    public StoredTensors stored() {
        return new Stored(store);
    }

    /** The weights that may read the input, by name: what is chosen when there is exactly one. */
    private List<NamedTensor> candidates() {
        return model().stream().filter(t -> t.isFloating() && t.shape().length >= 3 && t.shape().length <= 5
                && STEM.matcher(localName(t)).matches()).toList();
    }

    private int checkWeights() {
        int channels = -1;
        for (NamedTensor w : weights) {
            long[] shape = w.shape();
            if (!w.isFloating() || shape.length < 2 || shape.length > 5) {
                throw RechannelException.usage(OptionName.TENSORS + " " + w.name() + ": " + w.dtype() + " " + w.shapeList()
                        + " is not a floating-point Linear or convolution weight ([out, in, ...])");
            }
            if (channels >= 0 && shape[1] != channels) {
                throw RechannelException.usage(source + ": the chosen weights read different channel counts ("
                        + weights.stream().map(t -> t.name() + " " + t.shapeList()).collect(Collectors.joining(", "))
                        + "); they cannot read the same input");
            }
            channels = Math.toIntExact(shape[1]);
        }
        return channels;
    }

    private List<NamedTensor> chooseByName() {
        List<NamedTensor> candidates = candidates();
        if (candidates.size() == 1) {
            return candidates;
        }
        if (candidates.size() > 1) {
            throw RechannelException.usage(source + ": several weights may read the input: " + describe(candidates)
                    + "; name those that do with " + OptionName.TENSORS + " NAME (repeatable)");
        }
        List<NamedTensor> convolutions = model().stream()
                .filter(t -> t.isFloating() && t.shape().length >= 3 && t.shape().length <= 5).toList();
        long fewest = convolutions.stream().mapToLong(t -> t.shape()[1]).min().orElse(-1);
        List<NamedTensor> suggestions = convolutions.stream().filter(t -> t.shape()[1] == fewest).limit(5).toList();
        throw RechannelException.usage(source + ": no weight is named like an input layer (conv1, stem, conv_stem,"
                + " patch_embed.proj, features.0, ...)" + (suggestions.isEmpty() ? "" : "; the convolutions with the fewest"
                + " input channels are " + describe(suggestions)) + "; name the weight(s) reading the input with "
                + OptionName.TENSORS + " NAME");
    }

    /** A tensor by its full name, or by its name inside the model's state dict when that is unique. */
    private NamedTensor find(String name) {
        List<NamedTensor> model = model();
        for (NamedTensor t : model) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        List<NamedTensor> matches = model.stream().filter(t -> t.name().endsWith("/" + name)).toList();
        if (matches.size() == 1) {
            return matches.get(0);
        }
        if (matches.size() > 1) {
            throw RechannelException.usage(OptionName.TENSORS + " " + name + ": several tensors have this name: "
                    + describe(matches) + "; give the full name");
        }
        List<NamedTensor> candidates = candidates();
        throw RechannelException.usage(OptionName.TENSORS + " " + name + ": " + source + " has no such tensor"
                + (candidates.isEmpty() ? "" : " (input layers by name: " + describe(candidates) + ")"));
    }

    /** Per-channel buffers with one axis of {@code channels} entries: pixel_mean, pixel_std. */
    private List<NamedTensor> buffers(int channels) {
        return model().stream().filter(t -> t.isFloating() && NORMALIZATION.matcher(localName(t)).matches()
                && t.elements() == channels && Arrays.stream(t.shape()).anyMatch(d -> d == channels)).toList();
    }

    private List<NamedTensor> model() {
        return store.tensors().stream().filter(t -> !t.isOptimizerSlot()).toList();
    }

    /** The name inside its state dict (after the last '/' of a nested checkpoint's path). */
    private static String localName(NamedTensor t) {
        return t.name().substring(t.name().lastIndexOf('/') + 1);
    }

    private static String describe(List<NamedTensor> tensors) {
        return tensors.stream().sorted(Comparator.comparing(NamedTensor::name, Comparator.naturalOrder()))
                .map(t -> t.name() + " " + t.shapeList()).collect(Collectors.joining(", "));
    }

    /** A store's tensors compared by the byte ranges they are stored in. */
    private static final class Stored implements StoredTensors {

        private final TensorStore store;
        private final Map<String, NamedTensor> byName = new LinkedHashMap<>();

        Stored(TensorStore store) {
            this.store = store;
            store.tensors().forEach(t -> byName.put(t.name(), t));
        }

        @Override
        public List<String> names() {
            return List.copyOf(byName.keySet());
        }

        @Override
        public boolean has(String name) {
            return tensor(name) != null;
        }

        @Override
        public boolean same(String name, StoredTensors other, Progress progress) {
            NamedTensor a = tensor(name);
            NamedTensor b = ((Stored) other).tensor(name);
            if (!a.dtype().equals(b.dtype()) || !Arrays.equals(a.shape(), b.shape())) {
                return false;
            }
            TensorStore.RawRange x = store.raw(a).orElseThrow();
            TensorStore.RawRange y = ((Stored) other).store.raw(b).orElseThrow();
            return x.length() == y.length() && ByteRanges.same(x.file(), x.offset(), y.file(), y.offset(), x.length(), progress);
        }

        @Override
        public long bytes() {
            return store.tensors().stream().mapToLong(t -> store.raw(t).map(TensorStore.RawRange::length).orElse(0L)).sum();
        }

        @Override
        public boolean hasOptimizerState() {
            return store.hasOptimizer();
        }

        @Override
        public boolean isOptimizerState(String name) {
            NamedTensor t = tensor(name);
            return t != null && t.isOptimizerSlot();
        }

        private NamedTensor tensor(String name) {
            return byName.get(name);
        }
    }
}
