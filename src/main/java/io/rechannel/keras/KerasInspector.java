package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.Inspection;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Node;
import io.rechannel.graph.Segment;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;
import io.rechannel.pipeline.Planner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the {@code inspect} report of a Keras model. */
final class KerasInspector {

    private final KerasModelView model;
    private final String source;
    private final String format;

    KerasInspector(KerasModelView model, String source, String format) {
        this.model = model;
        this.source = source;
        this.format = format;
    }

    Inspection inspect(AdaptOptions options) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("keras_version", model.kerasVersion().isEmpty() ? "unknown" : model.kerasVersion());
        details.put("backend", model.backend().isEmpty() ? "unknown" : model.backend());
        details.put("model", model.graph().root().path("config").path("name").asText(
                model.hasConfig() ? model.graph().root().path("class_name").asText() : "(weights only)"));
        details.put("optimizer_state", String.valueOf(model.store().hasOptimizer()));
        List<Inspection.InputInfo> inputs = new ArrayList<>();
        List<Inspection.LayerInfo> layers = new ArrayList<>();
        List<Inspection.LayerInfo> preprocessing = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<io.rechannel.format.InputContract> contracts = new ArrayList<>();
        if (!model.hasConfig()) {
            notes.add("weights-only file (no model config): the first layer with a kernel is taken as the input layer;"
                    + " choose another with " + OptionName.LAYER);
        }
        for (Node input : model.graph().graph().inputs()) {
            if (options.input() != null && !options.input().equals(input.id())) {
                continue;
            }
            long[] shape = input.declaredShape().orElse(null);
            List<Long> shapeList = shape == null ? null : Arrays.stream(shape).boxed().toList();
            AdaptationPlan planned = null;
            try {
                // the optimizer state is not analysed: inspect neither adapts nor reports it
                AdaptationPlan plan = Planner.plan(new KerasAdaptableModel(model, source),
                        options.analysisOnly().input(input.id()).dropOptimizer());
                ChannelAxis axis = plan.dependency().axis();
                inputs.add(new Inspection.InputInfo(input.id(), shapeList,
                        axis == ChannelAxis.FIRST ? "channels_first" : "channels_last", plan.channels()));
                for (PlannedTensor kernel : plan.kernels()) {
                    KerasLayer layer = model.graph().layer(kernel.node());
                    Segment segment = kernel.consumer().segment();
                    layers.add(new Inspection.LayerInfo(layer.path(), layer.className(),
                            KerasH5Format.shapes(model.store().weightsOf(layer)),
                            "reads input '" + input.id() + "' channels " + segment.describe(plan.channels()) + " of "
                                    + kernel.view().axisLength() + (segment.flattened() ? " (through a flatten)" : "")));
                }
                for (var constant : plan.dependency().constants()) {
                    KerasLayer layer = model.graph().layer(constant.node().id());
                    preprocessing.add(new Inspection.LayerInfo(layer.path(), layer.className(),
                            KerasH5Format.shapes(model.store().weightsOf(layer)), preprocessingDetail(layer)));
                }
                String caffe = CaffeStyle.modelName(model, plan);
                if (caffe != null) {
                    notes.add(CaffeStyle.note(caffe));
                }
                planned = plan;
            } catch (RechannelException e) {
                inputs.add(new Inspection.InputInfo(input.id(), shapeList, "unknown", -1));
                notes.add("input '" + input.id() + "': " + e.getMessage());
            }
            if (planned != null) {
                // outside the try: a --norm that contradicts the model stops inspect (exit 2), it is no note
                boolean caffe = CaffeStyle.modelName(model, planned) != null;
                // a caffe-style model's channels are B, G, R unless the user names them
                contracts.add(KerasInputContract.of(model, planned, input.id(), caffe && options.from() == null
                        ? io.rechannel.core.ChannelLayout.parse("BGR") : options.fromLayout(planned.channels()), options.norm(),
                        source));
            }
        }
        return new Inspection(source, format, details, inputs, layers, preprocessing, parameterCount(), notes, contracts);
    }

    static String preprocessingDetail(KerasLayer layer) {
        List<String> parts = new ArrayList<>();
        for (String key : List.of("scale", "offset", "mean", "variance")) {
            if (layer.config().has(key) && !layer.config().get(key).isNull()) {
                parts.add(key + "=" + layer.config().get(key));
            }
        }
        return String.join(" ", parts);
    }

    private long parameterCount() {
        Hdf5File file = model.file();
        long total = 0;
        for (String path : file.datasets(model.store().root())) {
            total += file.dataset(path).elementCount();
        }
        return total;
    }
}
