package io.rechannel.keras;

import io.rechannel.core.ChannelLayout;
import io.rechannel.format.InputContract;
import io.rechannel.format.InputContract.Convention;
import io.rechannel.graph.ChannelAxis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The input contract of a Keras model: keras.applications models are recognised by name (as
 * {@link CaffeStyle}) and given their {@code preprocess_input} convention, on 0-255 RGB images:
 * {@code caffe} (BGR order, ImageNet means subtracted, no scaling), {@code tf} (scaled to [-1, 1]),
 * {@code torch} (ImageNet mean and std), or {@code in-model} (EfficientNet, MobileNetV3, ConvNeXt, RegNet:
 * the model normalises raw values itself). Other models: preprocessing outside the model unknown.
 */
final class KerasInputContract {

    private static final List<String> TF = List.of("mobilenet", "xception", "inception_v3", "inception_resnet_v2",
            "resnet50v2", "resnet101v2", "resnet152v2", "nasnet");
    private static final List<String> IN_MODEL = List.of("efficientnet", "mobilenetv3", "convnext", "regnet");

    private KerasInputContract() {
    }

    /** The contract of the model as it is, its channels named {@code from}. */
    static InputContract of(KerasModelView model, KerasPlan plan, String input, ChannelLayout from) {
        String layout = plan.dependency().axis() == ChannelAxis.FIRST ? "channels_first" : "channels_last";
        List<String> inside = inside(model, plan);
        Convention convention = convention(model, plan, inside);
        List<String> notes = new ArrayList<>();
        if (convention == Convention.CAFFE) {
            notes.add("keras.applications preprocess_input (caffe mode) takes RGB images, reverses them to BGR and subtracts"
                    + " these means; it knows nothing of other channels");
        }
        // a model of no known application that normalises itself takes what its own layers expect
        boolean ownPreprocessing = convention == Convention.IN_MODEL && !inside.isEmpty()
                && IN_MODEL.stream().noneMatch(p -> CaffeStyle.names(model, plan).stream()
                        .anyMatch(name -> name.toLowerCase(Locale.ROOT).startsWith(p)));
        return InputContract.of(input, layout, from.names(), convention,
                ownPreprocessing ? "what the model's own preprocessing expects" : "0-255", inside, notes);
    }

    private static Convention convention(KerasModelView model, KerasPlan plan, List<String> inside) {
        if (CaffeStyle.modelName(model, plan) != null) {
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
        return inside.isEmpty() ? Convention.UNKNOWN : Convention.IN_MODEL;
    }

    /** The per-channel preprocessing layers between the input and the first mixing layers. */
    private static List<String> inside(KerasModelView model, KerasPlan plan) {
        java.util.Map<String, KerasLayer> layers = new java.util.LinkedHashMap<>();
        for (var constant : plan.dependency().constants()) {
            KerasLayer layer = model.graph().layer(constant.node().id());
            if (layer != null) {
                layers.putIfAbsent(layer.path(), layer);
            }
        }
        plan.configLists().forEach(list -> layers.putIfAbsent(list.layer().path(), list.layer()));
        List<String> inside = new ArrayList<>();
        for (KerasLayer layer : layers.values()) {
            inside.add((layer.path() + " (" + layer.className() + ") " + KerasInspector.preprocessingDetail(layer)).trim());
        }
        return inside;
    }
}
