package io.rechannel.keras;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.NormSpec;
import io.rechannel.format.InputContract;
import io.rechannel.format.InputContract.Convention;
import io.rechannel.format.OutsideNorm;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedList;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The input contract of a Keras model: keras.applications models are recognised by name (as
 * {@link CaffeStyle}) and given their {@code preprocess_input} convention, on 0-255 RGB images:
 * {@code caffe} (BGR order, ImageNet means subtracted, no scaling), {@code tf} (scaled to [-1, 1]),
 * {@code torch} (ImageNet mean and std), or {@code in-model} (EfficientNet, MobileNetV3, ConvNeXt, RegNet:
 * the model normalises raw values itself). Other models: what {@code --norm} says, or unknown; a model
 * whose input goes through per-channel preprocessing layers is taken to expect raw values unless
 * {@code --norm} says otherwise. A model with rechannel's baked preprocessing layer takes raw values.
 */
final class KerasInputContract {

    private static final List<String> TF = List.of("mobilenet", "xception", "inception_v3", "inception_resnet_v2",
            "resnet50v2", "resnet101v2", "resnet152v2", "nasnet");
    private static final List<String> IN_MODEL = List.of("efficientnet", "mobilenetv3", "convnext", "regnet");

    private KerasInputContract() {
    }

    /** The contract of the model as it is, its channels named {@code from}, {@code norm} as {@code --norm} states it. */
    static InputContract of(KerasModelView model, AdaptationPlan plan, String input, ChannelLayout from, NormSpec norm,
                            String source) {
        String layout = plan.dependency().axis() == ChannelAxis.FIRST ? InputContract.CHANNELS_FIRST : InputContract.CHANNELS_LAST;
        List<String> inside = inside(model, plan);
        Convention byName = conventionByName(model, plan, false);
        int n = plan.channels();
        OutsideNorm recorded = byName != null ? known(byName, n, model, plan) : OutsideNorm.unknown("not recorded in the file");
        OutsideNorm outside = OutsideNorm.resolve(recorded, norm, n, source);
        if (byName == null && norm == null && !inside.isEmpty()) {
            // a model of no known application that normalises itself takes what its own layers expect
            outside = OutsideNorm.of(Convention.IN_MODEL, "what the model's own preprocessing expects", n,
                    "per-channel preprocessing layers at the input");
        }
        InputContract contract = InputContract.of(input, layout, from.names(), outside, inside, List.of());
        String baked = KerasBake.bakedLayer(model, plan);
        if (baked != null) {
            // the name's convention says the units even when the input no longer has the 3 channels it was made for
            String units = norm != null ? norm.units() : conventionByName(model, plan, true) != null ? "0-255" : "unknown";
            return new InputContract(input, layout, from.names(), "raw", units,
                    Collections.nCopies(n, 0.0), Collections.nCopies(n, 1.0), "layer '" + baked
                    + "', put in by --bake-preprocessing", true, inside, List.of("feed raw values in this channel order;"
                    + " the model normalises them itself (layer '" + baked + "')"));
        }
        return contract;
    }

    /**
     * The convention keras.applications gives a model of this name, or null; caffe only for a 3-channel input
     * unless {@code anyCount}.
     */
    private static Convention conventionByName(KerasModelView model, AdaptationPlan plan, boolean anyCount) {
        if ((anyCount ? CaffeStyle.matchingName(model, plan) : CaffeStyle.modelName(model, plan)) != null) {
            return Convention.CAFFE;
        }
        for (String name : CaffeStyle.names(model, plan)) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (IN_MODEL.stream().anyMatch(lower::startsWith)) {
                return Convention.IN_MODEL;
            }
            if (TF.stream().anyMatch(lower::startsWith)) {
                return Convention.TF;
            }
            if (lower.startsWith("densenet")) {
                return Convention.TORCH;
            }
        }
        return null;
    }

    private static OutsideNorm known(Convention convention, int n, KerasModelView model, AdaptationPlan plan) {
        String named = CaffeStyle.names(model, plan).stream().filter(s -> !s.isEmpty()).findFirst().orElse("?");
        OutsideNorm constants = OutsideNorm.of(convention, "0-255", n, "keras.applications name '" + named + "'");
        if (!constants.known()) {
            return OutsideNorm.unknown(constants.source() + ", but the input has " + n + " channels, not 3");
        }
        List<String> notes = new ArrayList<>();
        if (convention == Convention.CAFFE) {
            notes.add("keras.applications preprocess_input (caffe mode) takes RGB images, reverses them to BGR and subtracts"
                    + " these means; it knows nothing of other channels");
        } else if (convention == Convention.TF) {
            notes.add("tf mode: (x - 127.5) / 127.5 takes 0-255 to [-1, 1], the range the model was trained on");
        } else if (convention == Convention.TORCH) {
            notes.add("torch mode: the ImageNet mean and std of 0-1 images, times 255 (x in 0-255)");
        }
        return new OutsideNorm(constants.convention(), constants.units(), constants.mean(), constants.std(),
                constants.source(), notes);
    }

    /** The per-channel preprocessing layers between the input and the first mixing layers. */
    private static List<String> inside(KerasModelView model, AdaptationPlan plan) {
        java.util.Map<String, KerasLayer> layers = new java.util.LinkedHashMap<>();
        for (var constant : plan.dependency().constants()) {
            KerasLayer layer = model.graph().layer(constant.node().id());
            if (layer != null) {
                layers.putIfAbsent(layer.path(), layer);
            }
        }
        for (PlannedList list : plan.lists()) {
            KerasLayer layer = model.graph().layer(list.node());
            layers.putIfAbsent(layer.path(), layer);
        }
        List<String> inside = new ArrayList<>();
        for (KerasLayer layer : layers.values()) {
            inside.add((layer.path() + " (" + layer.className() + ") " + KerasInspector.preprocessingDetail(layer)).trim());
        }
        return inside;
    }
}
