package io.rechannel.keras;

import io.rechannel.core.OptionName;
import io.rechannel.format.InputContract;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Recognises the keras.applications models whose weights were trained on caffe's preprocessing: BGR
 * channel order and ImageNet means subtracted, no scaling (VGG16, VGG19, ResNet50/101/152 v1). The rule is
 * by name, the only thing such a file says about its preprocessing: the model's own name, or the name of a
 * nested model (a backbone) holding a layer that reads the input, starts with {@code vgg16}, {@code vgg19},
 * {@code resnet101} or {@code resnet152} (not v2), or is exactly {@code resnet50}.
 */
final class CaffeStyle {

    private CaffeStyle() {
    }

    /** The name that matched, or null when the model is not caffe-style or its input is not 3 channels. */
    static String modelName(KerasModelView model, AdaptationPlan plan) {
        return plan.channels() != 3 ? null : matchingName(model, plan);
    }

    /** The name that matched, whatever the input's channel count (a model adapted before keeps its name), or null. */
    static String matchingName(KerasModelView model, AdaptationPlan plan) {
        for (String name : names(model, plan)) {
            if (matches(name.toLowerCase(Locale.ROOT))) {
                return name;
            }
        }
        return null;
    }

    /** The model's name and the names of the nested models holding a layer that reads the input. */
    static List<String> names(KerasModelView model, AdaptationPlan plan) {
        List<String> names = new ArrayList<>();
        names.add(model.graph().root().path("config").path("name").asText(""));
        for (PlannedTensor kernel : plan.kernels()) {
            String scope = model.graph().layer(kernel.node()).scope();
            if (!scope.isEmpty()) {
                names.add(scope.substring(0, scope.length() - 1).replaceAll(".*/", ""));
            }
        }
        return names;
    }

    private static boolean matches(String name) {
        return name.startsWith("vgg16") || name.startsWith("vgg19") || name.equals("resnet50")
                || (name.startsWith("resnet101") || name.startsWith("resnet152")) && !name.contains("v2");
    }

    /** The note {@code inspect} prints. */
    static String note(String name) {
        return "'" + name + "' looks like a caffe-style keras.applications model: its first channel is blue;"
                + " pass " + OptionName.FROM + " BGR";
    }

    /** Why {@code extend} stops when {@code from} is not given. */
    static String refusal(String source, String name) {
        return InputContract.unstatedBgr(source, name, OptionName.FROM.toString());
    }
}
