package io.rechannel.torch;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.InputContract;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorStore;
import io.rechannel.format.VerifyResult;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;
import io.rechannel.format.TensorChange;
import io.rechannel.format.Verification;
import io.rechannel.pipeline.Adaptation;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.GraphlessModel;
import io.rechannel.pipeline.PlanVerifier;
import io.rechannel.pipeline.PlannedTensor;
import io.rechannel.pipeline.Planner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * PyTorch state dicts: safetensors files (single or sharded with an index) and {@code torch.save}
 * checkpoints (zip archives holding a pickle and the tensors' storages). A state dict has no graph:
 * the weights reading the input are named with {@code --tensor} or found by their names.
 */
public final class TorchFormat implements ModelFormat {

    private static final byte[] ZIP = {'P', 'K', 3, 4};
    private static final List<String> TORCH_SUFFIXES = List.of(".pth", ".pt", ".bin", ".ckpt", ".tar");

    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public String description() {
        return "PyTorch .safetensors (single or sharded, .safetensors.index.json) and torch.save .pth/.pt/.bin/.ckpt";
    }

    @Override
    public boolean accepts(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors") || SafetensorsStore.isIndex(file)
                || TORCH_SUFFIXES.stream().anyMatch(name::endsWith)) {
            return true;
        }
        byte[] head = ModelFormats.head(file, 9);
        if (head.length == 9 && head[8] == '{') {
            long length = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return length > 1 && length <= SafetensorsFile.MAX_HEADER;
        }
        return Arrays.equals(Arrays.copyOf(head, 4), ZIP) && !name.endsWith(".keras") && TorchZip.looksLikeTorch(file);
    }

    /**
     * The files the model consists of, the given file first: a sharded checkpoint's index and its shards
     * (no output may be one of them); otherwise the file itself.
     */
    @Override
    public List<Path> parts(Path file) {
        if (!SafetensorsStore.isIndex(file)) {
            return List.of(file);
        }
        try (SafetensorsStore store = SafetensorsStore.open(file)) {
            List<Path> parts = new ArrayList<>(List.of(file));
            store.shards().values().forEach(shard -> parts.add(shard.path()));
            return parts;
        }
    }

    /** Opens the store that reads the file: safetensors by its name or header, torch.save by its zip signature. */
    static TensorStore open(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        byte[] head = ModelFormats.head(file, 4);
        if (name.endsWith(".safetensors") || SafetensorsStore.isIndex(file) || !TORCH_SUFFIXES.stream().anyMatch(name::endsWith)
                && !Arrays.equals(head, ZIP)) {
            return SafetensorsStore.open(file);
        }
        return TorchCheckpoint.open(file);
    }

    @Override
    public Optional<TensorStore> openTensors(Path file) {
        return Optional.of(open(file));
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        options.refuseUnused(file.toString(), description(), Set.of(OptionName.TENSORS));
        try (TensorStore store = open(file)) {
            Map<String, String> details = new LinkedHashMap<>(store.details());
            long parameters = 0;
            for (NamedTensor t : store.tensors()) {
                details.put("tensor " + t.name(), t.dtype() + " " + t.shapeList() + " " + Dtype.bytes(t) + " bytes");
                parameters += t.isOptimizerSlot() ? 0 : t.elements();
            }
            List<Inspection.InputInfo> inputs = new ArrayList<>();
            List<Inspection.LayerInfo> layers = new ArrayList<>();
            List<Inspection.LayerInfo> preprocessing = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            List<InputContract> contracts = new ArrayList<>();
            AdaptationPlan planned = null;
            try {
                AdaptationPlan plan = Planner.plan(GraphlessModel.of(store, options.formatOptions().tensors()),
                        options.analysisOnly().dropOptimizer());
                inputs.add(new Inspection.InputInfo("(state dict, no graph)", null, "channels_first", plan.channels()));
                for (PlannedTensor w : plan.kernels()) {
                    layers.add(new Inspection.LayerInfo(w.name(), "weight [out, in, ...]",
                            Map.of(w.name(), w.tensor().shapeList()), "reads the input's " + plan.channels()
                            + " channels on axis 1" + (options.formatOptions().tensors().isEmpty() ? " (chosen by its name)" : "")));
                }
                for (PlannedTensor c : plan.constants()) {
                    preprocessing.add(new Inspection.LayerInfo(c.name(), "per-channel buffer",
                            Map.of(c.name(), c.tensor().shapeList()), ""));
                }
                planned = plan;
            } catch (RechannelException e) {
                inputs.add(new Inspection.InputInfo("(state dict, no graph)", null, "unknown", -1));
                notes.add(e.getMessage());
            }
            if (planned != null) {
                // outside the try: a --norm that contradicts the file stops inspect (exit 2), it is no note
                contracts.add(StateDictContract.of(store, planned, options.fromLayout(planned.channels()), options.norm()));
            }
            return new Inspection(file.toString(), name(), details, inputs, layers, preprocessing, parameters, notes,
                    contracts);
        }
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        options.refuseUnused(input.toString(), description(), Set.of(OptionName.TENSORS));
        String source = input.toString();
        if (options.bake()) {
            throw StateDictContract.cannotBake(source);
        }
        try (TensorStore store = open(input)) {
            GraphlessModel model = GraphlessModel.of(store, options.formatOptions().tensors());
            AdaptationPlan plan = Planner.plan(model, options);
            ChannelMap map = options.changingMap(plan.channels(), source);
            InputContract original = StateDictContract.of(store, plan, map.from(), options.norm());
            Adaptation adaptation = new Adaptation(model, plan, map, options)
                    .checkStatistics(original.mean() != null, "pixel_mean or pixel_std buffer");
            InputContract contract = original.extended(map, InputContract.orderNotes(map),
                    adaptation.statisticsGoInside() ? null : options.stats());
            EditList edits = new EditList(model);
            List<TensorChange> tensorChanges = adaptation.apply(edits);
            List<String> changes = new ArrayList<>(store.write(output, edits.edits(), options.dropsOptimizer(), overwrite));
            List<String> notes = new ArrayList<>();
            if (options.dropsOptimizer() && store.hasOptimizer()) {
                changes.add(AdaptResult.OPTIMIZER_REMOVED);
                notes.add("the optimizer's settings (param_groups) are kept");
            }
            return AdaptResult.of(source, output.toString(), map, tensorChanges, changes, notes).withContract(contract);
        }
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        options.refuseUnused(original.toString(), description(), Set.of(OptionName.TENSORS));
        try (TensorStore before = open(original); TensorStore after = open(adapted)) {
            Verification verification = new Verification(original.toString(), adapted.toString());
            List<String> named = options.formatOptions().tensors();
            PlanVerifier.verify(GraphlessModel.of(before, named), GraphlessModel.of(after, named), options, verification);
            return verification.result();
        }
    }
}
