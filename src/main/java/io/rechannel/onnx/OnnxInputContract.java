package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.NormSpec;
import io.rechannel.format.InputContract;
import io.rechannel.format.OutsideNorm;
import io.rechannel.format.RecordedNorm;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The input contract of an ONNX model. Inside: the per-channel Sub/Div/Mul/Add and BatchNormalization nodes
 * between the input and the first mixing layers, with their constants. Outside: what the model's
 * {@code metadata_props} record under a key {@link RecordedNorm} knows, else what {@code --norm} states, else
 * unknown. Exporters record none of these by default, so a plain torch.onnx export says nothing of its
 * preprocessing.
 */
final class OnnxInputContract {

    private OnnxInputContract() {
    }

    static InputContract of(OnnxModel model, AdaptationPlan plan, ChannelLayout from, NormSpec norm) {
        String source = model.file().path().toString();
        String layout = plan.dependency().axis() == ChannelAxis.LAST ? InputContract.CHANNELS_LAST : InputContract.CHANNELS_FIRST;
        int n = plan.channels();
        List<String> inside = inside(model, plan);
        OutsideNorm outside = OutsideNorm.resolve(RecordedNorm.of(model.file().metadata(), n, "ONNX metadata_props"), norm, n, source);
        List<String> notes = new ArrayList<>();
        if (!outside.known() && !inside.isEmpty()) {
            notes.add("the model normalises its input itself (inside); what it expects before that is not recorded");
        }
        if ("Bgr8".equalsIgnoreCase(model.file().metadata().get("Image.BitmapPixelFormat"))) {
            notes.add("metadata_props Image.BitmapPixelFormat says the input takes BGR images: name the channels with --from BGR");
        }
        String baked = bakedNode(model, plan);
        if (baked != null) {
            return new InputContract(plan.dependency().input(), layout, from.names(), "raw",
                    outside.known() ? outside.units() : "unknown", Collections.nCopies(n, 0.0), Collections.nCopies(n, 1.0),
                    "node '" + baked + "', put in by --bake-preprocessing", true, inside,
                    List.of("feed raw values in this channel order; the model normalises them itself (node '" + baked + "')"));
        }
        return InputContract.of(plan.dependency().input(), layout, from.names(), outside, inside, notes);
    }

    /**
     * The adapted model's contract before any baking: the original's extended by {@code map}, with the user's
     * {@code --stats} where no in-model normalisation (a Sub or BatchNormalization in front) takes them.
     */
    static InputContract adapted(OnnxModel model, AdaptationPlan plan, ChannelMap map, AdaptOptions options) {
        boolean statsInside = !plan.statisticTargets().isEmpty();
        return of(model, plan, map.from(), options.norm()).extended(map, InputContract.orderNotes(map),
                statsInside ? null : options.stats());
    }

    /** The first of rechannel's baked nodes in front of the adapted layers, or null. */
    static String bakedNode(OnnxModel model, AdaptationPlan plan) {
        for (PlannedTensor constant : plan.constants()) {
            String name = model.node(constant.node()).getName();
            if (name.startsWith(OnnxBake.PREFIX)) {
                return name;
            }
        }
        return null;
    }

    /** The per-channel nodes in front of the mixing layers, one line each with their constants. */
    private static List<String> inside(OnnxModel model, AdaptationPlan plan) {
        Map<String, List<String>> byNode = new LinkedHashMap<>();
        Map<String, String> ops = new LinkedHashMap<>();
        for (PlannedTensor constant : plan.constants()) {
            String id = constant.node();
            String op = constant.consumer().node().type();
            ops.put(id, op);
            String role = op.equals("BatchNormalization")
                    ? List.of("x", "scale", "bias", "mean", "var").get(Math.min(OnnxAdaptable.input(constant), 4)) + "=" : "";
            byNode.computeIfAbsent(id, k -> new ArrayList<>()).add(role + rounded(model.constantValues(constant.name())));
        }
        List<String> lines = new ArrayList<>();
        byNode.forEach((id, values) -> lines.add(id + " (" + ops.get(id) + ") " + String.join(" ", values)));
        return lines;
    }

    private static String rounded(double[] values) {
        return Arrays.stream(values).mapToObj(v -> {
            double r = Double.parseDouble(String.format(Locale.ROOT, "%.6g", v));
            return String.valueOf(r);
        }).toList().toString();
    }

    /** The graph input's element type, for constants that must match it. */
    static int elementType(OnnxModel model, String input) {
        for (OnnxMl.ValueInfoProto info : model.file().inputs()) {
            if (info.getName().equals(input)) {
                return info.getType().getTensorType().getElemType();
            }
        }
        return 0;
    }
}
