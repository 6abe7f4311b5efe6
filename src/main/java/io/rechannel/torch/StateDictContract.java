package io.rechannel.torch;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.NormSpec;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.InputContract;
import io.rechannel.format.OutsideNorm;
import io.rechannel.format.RecordedNorm;
import io.rechannel.format.TensorStore;

import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The input contract of a state dict: channels first (PyTorch's NCHW), the channels in order, the per-channel
 * buffers that normalise inside the model ({@code pixel_mean}/{@code pixel_std}), and the outside preprocessing
 * from what the file records (safetensors {@code __metadata__}, read as {@link RecordedNorm} reads it) or
 * {@code --norm}; a state dict holds weights only, so usually it records none, and the contract says so.
 */
final class StateDictContract {

    private StateDictContract() {
    }

    static InputContract of(TensorStore store, AdaptationPlan plan, ChannelLayout from, NormSpec norm) {
        String source = store.file().toString();
        int n = plan.channels();
        OutsideNorm recorded = RecordedNorm.of(store.metadata(), n, store.metadata().isEmpty() && !isSafetensors(store)
                ? "the torch.save file (weights only)" : "safetensors __metadata__");
        OutsideNorm outside = OutsideNorm.resolve(recorded, norm, n, source);
        List<String> inside = new ArrayList<>();
        for (PlannedTensor c : plan.constants()) {
            inside.add(c.tensor().name() + " (per-channel buffer) " + Arrays.toString(store.read(c.tensor())));
        }
        List<String> notes = new ArrayList<>();
        if (!outside.known()) {
            notes.add("a state dict holds weights only: what the model expects outside itself is the model's own"
                    + " (timm: its pretrained_cfg mean and std); state it with --norm to have it extended to the new channels");
        }
        String input = "(state dict: " + plan.kernels().get(0).name() + ")";
        return InputContract.of(input, InputContract.CHANNELS_FIRST, from.names(), outside, inside, notes);
    }

    private static boolean isSafetensors(TensorStore store) {
        return store instanceof SafetensorsStore;
    }

    /** A state dict has no graph to put layers into. */
    static RechannelException cannotBake(String source) {
        return RechannelException.usage(source + ": " + OptionName.BAKE + " does not apply to a state dict: it holds weights"
                + " only, no graph to put layers into; apply the contract's preprocessing (OUT.input.json) outside the model");
    }
}
