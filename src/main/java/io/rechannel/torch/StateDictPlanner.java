package io.rechannel.torch;

import io.rechannel.core.AxisView;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Decides which tensors of a state dict (no graph) read the input channels: the ones named with
 * {@code --tensor}, or else the one weight whose name is that of a known input layer ({@code conv1},
 * {@code stem}, {@code conv_stem}, {@code patch_embed.proj}, {@code features.0}, ...). Weights are in
 * PyTorch's layout, input channels on axis 1 (Conv1d/2d/3d {@code [out, in, ...]}, Linear
 * {@code [out, in]}). Per-channel preprocessing stored as buffers ({@code pixel_mean}, {@code pixel_std}
 * of detectron2-style models) and the optimizer state of the chosen weights go with them.
 */
final class StateDictPlanner {

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

    /** A tensor to change, viewed with its channels on one axis. */
    record Target(NamedTensor tensor, AxisView view, int axis) {
    }

    /**
     * What changes: the weights reading the input (mixed with M), per-channel constants (re-indexed),
     * and optimizer slots of the weights (kept channels keep their state, new ones start at zero).
     */
    record Plan(int channels, List<Target> weights, List<Target> constants, List<Target> slots) {
        List<Target> all() {
            List<Target> all = new ArrayList<>(weights);
            all.addAll(constants);
            all.addAll(slots);
            return all;
        }
    }

    private final TensorStore store;
    private final String source;

    StateDictPlanner(TensorStore store) {
        this.store = store;
        this.source = store.file().toString();
    }

    /** The input as {@code extend} finds it by name (no graph): the weights reading it and its per-channel buffers. */
    static java.util.Optional<TensorStore.ModelInput> input(TensorStore store) {
        try {
            Plan plan = new StateDictPlanner(store).plan(List.of(), true);
            return java.util.Optional.of(new TensorStore.ModelInput(plan.channels(),
                    plan.weights().stream().map(t -> t.tensor().name()).toList(),
                    plan.constants().stream().map(t -> t.tensor().name()).toList()));
        } catch (RechannelException e) {
            return java.util.Optional.empty(); // no weight or several named like an input layer
        }
    }

    /** The weights that may read the input, by name: what is chosen when there is exactly one. */
    List<NamedTensor> candidates() {
        return model().stream().filter(t -> t.isFloating() && t.shape().length >= 3 && t.shape().length <= 5
                && STEM.matcher(localName(t)).matches()).toList();
    }

    /**
     * Plans the change. With {@code dropOptimizer} no slot is planned (the writer empties the state);
     * otherwise a weight whose slots cannot be told apart stops the run.
     */
    Plan plan(List<String> named, boolean dropOptimizer) {
        List<NamedTensor> weights = named.isEmpty() ? chooseByName() : named.stream().map(this::find).toList();
        int channels = -1;
        List<Target> targets = new ArrayList<>();
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
            targets.add(new Target(w, AxisView.of(shape, 1), 1));
        }
        List<Target> slots = dropOptimizer ? List.of() : slots(targets);
        return new Plan(channels, targets, constants(channels), slots);
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
    NamedTensor find(String name) {
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
    private List<Target> constants(int channels) {
        List<Target> constants = new ArrayList<>();
        for (NamedTensor t : model()) {
            if (!t.isFloating() || !NORMALIZATION.matcher(localName(t)).matches()) {
                continue;
            }
            long[] shape = t.shape();
            int axis = -1;
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] == channels && (axis < 0 || channels != 1)) {
                    axis = d;
                }
            }
            if (axis >= 0 && t.elements() == channels) {
                constants.add(new Target(t, AxisView.of(shape, axis), axis));
            }
        }
        return constants;
    }

    /**
     * The optimizer slots of each weight. Slots are keyed by the parameter's index, not its name: a
     * weight's slots are those of the one parameter index whose slots have its shape, accepted only when
     * no other model tensor has that shape (true of an input layer, whose channel count is unusual).
     */
    private List<Target> slots(List<Target> weights) {
        List<NamedTensor> optimizer = store.tensors().stream().filter(NamedTensor::isOptimizerSlot).toList();
        if (optimizer.isEmpty()) {
            return List.of();
        }
        List<Target> slots = new ArrayList<>();
        for (Target w : weights) {
            long[] shape = w.tensor().shape();
            Map<String, List<NamedTensor>> byParam = new LinkedHashMap<>();
            optimizer.stream().filter(s -> Arrays.equals(s.shape(), shape))
                    .forEach(s -> byParam.computeIfAbsent(s.optimizerOf(), k -> new ArrayList<>()).add(s));
            List<NamedTensor> sameShape = model().stream()
                    .filter(t -> Arrays.equals(t.shape(), shape)).toList();
            if (byParam.size() > 1 || sameShape.size() > 1) {
                throw RechannelException.unsupported(source + ": the optimizer state of '" + w.tensor().name()
                        + "' cannot be told from that of " + (sameShape.size() > 1 ? describe(sameShape)
                        : "parameters " + byParam.keySet()) + " (same shape " + w.tensor().shapeList()
                        + "; optimizer state is keyed by index, not name); " + OptionName.DROP_OPTIMIZER + " removes the optimizer state instead");
            }
            byParam.values().forEach(list -> list.forEach(s -> slots.add(new Target(s, AxisView.of(shape, 1), 1))));
        }
        return slots;
    }

    private List<NamedTensor> model() {
        return store.tensors().stream().filter(t -> !t.isOptimizerSlot()).toList();
    }

    /** The name inside its state dict (after the last '/' of a nested checkpoint's path). */
    static String localName(NamedTensor t) {
        return t.name().substring(t.name().lastIndexOf('/') + 1);
    }

    static String describe(List<NamedTensor> tensors) {
        return tensors.stream().sorted(Comparator.comparing(NamedTensor::name, Comparator.naturalOrder()))
                .map(t -> t.name() + " " + t.shapeList()).collect(Collectors.joining(", "));
    }
}
