package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.InputContract;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.TensorChange;
import io.rechannel.format.TensorStore;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Node;
import io.rechannel.pipeline.Adaptation;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlanVerifier;
import io.rechannel.pipeline.PlannedTensor;

import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** ONNX models ({@code .onnx}), with their external data. */
public final class OnnxFormat implements ModelFormat {

    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public String description() {
        return "ONNX .onnx";
    }

    @Override
    public boolean accepts(Path file) {
        return file.getFileName().toString().toLowerCase().endsWith(".onnx");
    }

    /** The model file and the external-data files it references. */
    @Override
    public List<Path> parts(Path file) {
        return parts(OnnxFile.read(file));
    }

    static List<Path> parts(OnnxFile file) {
        Set<Path> parts = new LinkedHashSet<>(List.of(file.path()));
        for (OnnxFile.TensorInfo info : file.initializers().values()) {
            if (info.isExternal()) {
                parts.add(file.externalPath(info));
            }
        }
        return List.copyOf(parts);
    }

    @Override
    public Optional<TensorStore> openTensors(Path file) {
        return Optional.of(new OnnxTensorStore(file));
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        options.refuseUnused(file.toString(), description(), Set.<OptionName>of());
        OnnxModel model = OnnxModel.of(OnnxFile.read(file));
        Map<String, String> details = new LinkedHashMap<>();
        details.put("ir_version", String.valueOf(model.file().irVersion()));
        details.put("nodes", String.valueOf(model.file().nodes().size()));
        details.put("external_data", String.valueOf(model.file().initializers().values().stream()
                .anyMatch(OnnxFile.TensorInfo::isExternal)));
        List<Inspection.InputInfo> inputs = new ArrayList<>();
        List<Inspection.LayerInfo> layers = new ArrayList<>();
        List<Inspection.LayerInfo> preprocessing = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<InputContract> contracts = new ArrayList<>();
        OnnxAdaptable adaptable = new OnnxAdaptable(model);
        for (Node input : model.graph().inputs()) {
            if (options.input() != null && !options.input().equals(input.id())) {
                continue;
            }
            List<Long> shape = input.declaredShape().map(s -> Arrays.stream(s).boxed().toList()).orElse(null);
            AdaptationPlan planned = null;
            try {
                AdaptationPlan plan = adaptable.plan(options.analysisOnly().input(input.id()));
                inputs.add(new Inspection.InputInfo(input.id(), shape,
                        plan.dependency().axis() == ChannelAxis.FIRST ? "channels_first" : "channels_last", plan.channels()));
                for (PlannedTensor kernel : plan.kernels()) {
                    layers.add(new Inspection.LayerInfo(kernel.node(), kernel.consumer().node().type(),
                            Map.of(kernel.name(), kernel.tensor().shapeList()),
                            "reads input '" + input.id() + "' channels "
                                    + kernel.consumer().segment().describe(plan.channels()) + " of " + kernel.view().axisLength()
                                    + (model.usesOf(kernel.name()) > 1 ? "; weight shared with other nodes" : "")));
                }
                for (PlannedTensor constant : plan.constants()) {
                    preprocessing.add(new Inspection.LayerInfo(constant.node(), constant.consumer().node().type(),
                            Map.of(constant.name(), constant.tensor().shapeList()), ""));
                }
                planned = plan;
            } catch (RechannelException e) {
                inputs.add(new Inspection.InputInfo(input.id(), shape, "unknown", -1));
                notes.add("input '" + input.id() + "': " + e.getMessage());
            }
            if (planned != null) {
                // outside the try: a --norm that contradicts the model stops inspect (exit 2), it is no note
                contracts.add(OnnxInputContract.of(model, planned, options.fromLayout(planned.channels()), options.norm()));
            }
        }
        long parameters = model.file().initializers().values().stream().mapToLong(OnnxFile.TensorInfo::elementCount).sum();
        return new Inspection(file.toString(), name(), details, inputs, layers, preprocessing, parameters, notes, contracts);
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        options.refuseUnused(input.toString(), description(), Set.<OptionName>of());
        String source = input.toString();
        OnnxFile file = OnnxFile.read(input);
        OnnxModel model = OnnxModel.of(file);
        OnnxAdaptable adaptable = new OnnxAdaptable(model);
        AdaptationPlan plan = adaptable.plan(options);
        ChannelMap map = options.changingMap(plan.channels(), source);
        InputContract contract = OnnxInputContract.adapted(model, plan, map, options);
        OnnxBake bake = new OnnxBake(model, plan);
        if (options.bake()) {
            contract.checkBakeable(source);
            bake.check();
        }
        Adaptation adaptation = new Adaptation(adaptable, plan, map, options)
                .checkStatistics(contract.mean() != null, "Sub, Div, Mul or BatchNormalization node");
        OnnxEditSink sink = new OnnxEditSink(model);
        List<TensorChange> tensorChanges = adaptation.apply(sink);
        OnnxEdits edits = sink.edits();
        List<String> changes = new ArrayList<>(List.of(
                OnnxRecordedShapes.resize(model, plan.dependency(), plan.channels(), map.newCount(), edits)));
        if (options.bake()) {
            List<String> added = bake.apply(edits, contract);
            contract = contract.baked(added);
            added.forEach(line -> changes.add("preprocessing baked in: " + line));
        }
        changes.addAll(OnnxOutput.write(file, edits, output, overwrite));
        return AdaptResult.of(source, output.toString(), map, tensorChanges, changes, List.of()).withContract(contract);
    }

    /**
     * The pipeline's checks ({@link PlanVerifier}), the whole-model run in ONNX Runtime where it can be made, and
     * the preprocessing baked into the adapted model.
     */
    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        options.refuseUnused(original.toString(), description(), Set.<OptionName>of());
        OnnxAdaptable before = OnnxAdaptable.read(original);
        OnnxAdaptable after = OnnxAdaptable.read(adapted);
        Verification verification = new Verification(original.toString(), adapted.toString());
        PlanVerifier.Outcome outcome = PlanVerifier.verify(before, after, options, verification);
        before.checkShapeReaders(outcome.before());
        after.checkShapeReaders(outcome.after());
        if (outcome.map() != null) {
            new OnnxRuntimeCheck(before.model(), after.model(), verification).check(outcome);
            OnnxBake.verify(before.model(), after.model(), outcome, options, verification);
        }
        return verification.result();
    }

    static long[] dims(OnnxMl.TensorProto tensor) {
        return tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }
}
