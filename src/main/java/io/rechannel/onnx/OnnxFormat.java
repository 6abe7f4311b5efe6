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
import io.rechannel.format.TensorStore;
import io.rechannel.format.VerifyResult;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Node;

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
        for (Node input : model.graph().inputs()) {
            if (options.input() != null && !options.input().equals(input.id())) {
                continue;
            }
            List<Long> shape = input.declaredShape().map(s -> Arrays.stream(s).boxed().toList()).orElse(null);
            OnnxPlan planned = null;
            try {
                OnnxPlan plan = OnnxPlan.of(model, options.analysisOnly().input(input.id()), file.toString());
                inputs.add(new Inspection.InputInfo(input.id(), shape,
                        plan.dependency().axis() == ChannelAxis.FIRST ? "channels_first" : "channels_last", plan.channels()));
                for (OnnxPlan.Use use : plan.weights()) {
                    layers.add(new Inspection.LayerInfo(use.consumer().node().id(), use.node().getOpType(),
                            Map.of(use.source(), Arrays.stream(model.constantShape(use.source())).boxed().toList()),
                            "reads input '" + input.id() + "' channels "
                                    + use.consumer().segment().describe(plan.channels()) + " of " + use.view().axisLength()
                                    + (model.usesOf(use.source()) > 1 ? "; weight shared with other nodes" : "")));
                }
                for (OnnxPlan.Use use : plan.constants()) {
                    preprocessing.add(new Inspection.LayerInfo(use.consumer().node().id(), use.node().getOpType(),
                            Map.of(use.source(), Arrays.stream(model.constantShape(use.source())).boxed().toList()), ""));
                }
                planned = plan;
            } catch (RechannelException e) {
                inputs.add(new Inspection.InputInfo(input.id(), shape, "unknown", -1));
                notes.add("input '" + input.id() + "': " + e.getMessage());
            }
            if (planned != null) {
                // outside the try: a --norm that contradicts the model stops inspect (exit 2), it is no note
                contracts.add(OnnxInputContract.of(planned, options.fromLayout(planned.channels()), options.norm()));
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
        OnnxPlan plan = OnnxPlan.of(model, options, source);
        ChannelMap map = options.changingMap(plan.channels(), source);
        InputContract contract = OnnxInputContract.adapted(plan, map, options);
        OnnxBake bake = new OnnxBake(plan);
        if (options.bake()) {
            contract.checkBakeable(source);
            bake.check();
        }
        OnnxAdapter adapter = new OnnxAdapter(plan, map, options, contract.mean() != null);
        OnnxEdits edits = adapter.edits();
        List<String> changes = new ArrayList<>(List.of(adapter.shapeChanges()));
        if (options.bake()) {
            List<String> added = bake.apply(edits, contract);
            contract = contract.baked(added);
            added.forEach(line -> changes.add("preprocessing baked in: " + line));
        }
        changes.addAll(OnnxOutput.write(file, edits, output, overwrite));
        return AdaptResult.of(source, output.toString(), map, adapter.tensorChanges(), changes, List.of())
                .withContract(contract);
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        options.refuseUnused(original.toString(), description(), Set.<OptionName>of());
        return new OnnxVerifier(original, adapted).verify(options);
    }

    static long[] dims(OnnxMl.TensorProto tensor) {
        return tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }
}
