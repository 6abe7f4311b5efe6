package io.rechannel.transfer;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import io.rechannel.format.InputContract;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;
import io.rechannel.format.TensorStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The two models' inputs and the channel map between them. Which tensors read the input comes from the
 * formats, as {@code extend} finds them (the model's graph; for a state dict, the input layer's name); where
 * neither model can tell, the target's first kernel is taken to read it. The map is built as {@code extend}
 * builds it: from the pretrained model's channels ({@code --from-channels}, by default RGB for 3) to the
 * target's ({@code --to-channels}, by default as many as its input has), with the {@code --init} rules. A
 * pretrained model recognised as trained on BGR input (a caffe-style Keras model) must have its channels named.
 */
final class InputChannels {

    private final TransferRequest request;
    private final TensorStore pretrained;
    private final TensorStore target;
    private final Optional<TensorStore.ModelInput> pretrainedInput;
    private final Optional<TensorStore.ModelInput> targetInput;
    private final NamedTensor firstTargetKernel;
    private final List<String> notes = new ArrayList<>();
    private ChannelMap map;

    InputChannels(TransferRequest request, TensorStore pretrained, TensorStore target) {
        this.request = request;
        this.pretrained = pretrained;
        this.target = target;
        this.pretrainedInput = pretrained.input();
        this.targetInput = target.input();
        this.firstTargetKernel = target.tensors().stream().filter(t -> !t.isOptimizerSlot())
                .filter(t -> t.role().kind() == TensorRole.Kind.KERNEL || t.role().kind() == TensorRole.Kind.MATRIX)
                .findFirst().orElse(null);
        checkDeclared(request.fromChannels(), pretrainedInput, pretrained, "--from-channels");
        checkDeclared(request.toChannels(), targetInput, target, "--to-channels");
    }

    private static void checkDeclared(ChannelLayout declared, Optional<TensorStore.ModelInput> input, TensorStore store,
                                      String option) {
        if (declared != null && input.isPresent() && input.get().channels() > 0
                && declared.size() != input.get().channels()) {
            throw RechannelException.usage(option + " " + declared + " names " + declared.size() + " channels but the input of "
                    + store.file() + " has " + input.get().channels());
        }
    }

    /** True when the pair is a layer reading the model's input directly. */
    boolean readsInput(NamedTensor p, NamedTensor t) {
        boolean known = pretrainedInput.isPresent() || targetInput.isPresent();
        if (!known) {
            if (t.equals(firstTargetKernel)) {
                notes.add("neither model says which layer reads its input; " + t.name() + ", the target's first kernel,"
                        + " was taken to");
                return true;
            }
            return false;
        }
        return pretrainedInput.map(i -> i.readers().contains(p.name())).orElse(false)
                || targetInput.map(i -> i.readers().contains(t.name())).orElse(false);
    }

    /** True when the pair holds per-channel constants in front of the layers reading the input. */
    boolean isConstant(NamedTensor p, NamedTensor t) {
        return pretrainedInput.map(i -> i.constants().contains(p.name())).orElse(false)
                || targetInput.map(i -> i.constants().contains(t.name())).orElse(false);
    }

    /**
     * The channel map, built the first time a pair needs it; {@code pretrainedAxis} and {@code targetAxis} are the
     * pair's input-axis lengths, taken as the channel counts where a model does not declare its input's.
     */
    ChannelMap map(NamedTensor p, NamedTensor t, long pretrainedAxis, long targetAxis) {
        if (map == null) {
            String bgr = pretrainedInput.map(TensorStore.ModelInput::bgrModel).orElse(null);
            if (bgr != null && request.fromChannels() == null) {
                // mapping channels by name needs their names: the default RGB would silently be the wrong order
                throw RechannelException.usage(InputContract.unstatedBgr(pretrained.file().toString(), bgr, "--from-channels"));
            }
            int from = count(pretrainedInput, request.fromChannels(), pretrainedAxis);
            int to = count(targetInput, request.toChannels(), targetAxis);
            if (request.fromChannels() != null && request.fromChannels().size() != from) {
                throw RechannelException.usage("--from-channels " + request.fromChannels() + " names "
                        + request.fromChannels().size() + " channels but " + p.name() + " in " + pretrained.file()
                        + " reads " + from);
            }
            if (request.toChannels() != null && request.toChannels().size() != to) {
                throw RechannelException.usage("--to-channels " + request.toChannels() + " names "
                        + request.toChannels().size() + " channels but " + t.name() + " in " + target.file() + " reads " + to);
            }
            ChannelLayout toLayout = request.toChannels() != null ? request.toChannels() : ChannelLayout.numbered(to);
            AdaptOptions options = new AdaptOptions(request.fromChannels(), toLayout, request.inits(), request.seed(),
                    null, Set.of(), Map.of(), false, null, null);
            map = options.channelMap(from, pretrained.file().toString());
        }
        return map;
    }

    private static int count(Optional<TensorStore.ModelInput> input, ChannelLayout declared, long axis) {
        if (input.isPresent() && input.get().channels() > 0) {
            return input.get().channels();
        }
        return declared != null ? declared.size() : Math.toIntExact(axis);
    }

    /** The rules of the map, when one was used. */
    List<String> rules() {
        return map == null ? List.of() : List.of(map.from() + " -> " + map.to() + ": " + String.join(", ", map.rules()));
    }

    List<String> notes() {
        return notes;
    }

    /**
     * The tensor ({@code shape}, in the target's layout) viewed through its input channels: the whole input axis,
     * or for a dense weight behind a flatten, the channels within each position; null when the axis does not
     * split into {@code channels}.
     */
    static AxisView view(TensorRole role, long[] shape, int axis, int channels) {
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long extent = shape[axis];
        if (extent == channels) {
            return AxisView.whole(outer, channels, inner);
        }
        if (!role.flattened() || extent % channels != 0) {
            return null;
        }
        long positions = extent / channels;
        return role.channelsLast() ? AxisView.whole(outer * positions, channels, inner)
                : AxisView.whole(outer, channels, positions * inner);
    }
}
