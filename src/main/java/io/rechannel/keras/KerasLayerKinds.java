package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.NodeRole;

import java.util.Set;

/** What each Keras layer class does to channels, read from its class name and config. */
final class KerasLayerKinds {

    private static final Set<String> CONVOLUTIONS = Set.of(
            "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
            "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose", "Deconvolution2D",
            "AtrousConvolution2D", "AtrousConv2D");

    private static final Set<String> PER_CHANNEL = Set.of(
            "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
            "UpSampling1D", "UpSampling2D", "UpSampling3D",
            "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
            "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
            "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
            "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
            "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
            "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
            "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking", "Identity",
            "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU",
            "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
            "RandomCrop", "RandomContrast", "RandomBrightness", "RandomHeight", "RandomWidth", "InputLayer");

    private static final Set<String> ELEMENTWISE = Set.of(
            "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum");

    private static final Set<String> MODELS = Set.of("Functional", "Model", "Sequential");

    private KerasLayerKinds() {
    }

    /** Keras 3 records tensor operations written in Python ({@code x + 3.0}) as config entries from keras.src.ops. */
    static boolean isOperation(JsonNode entry) {
        return entry.path("module").asText("").startsWith("keras.src.ops");
    }

    private static final Set<String> ARITHMETIC = Set.of("Add", "Subtract", "Multiply", "Divide", "TrueDivide");

    /** An operation on one tensor and plain numbers treats every channel alike; on several tensors it is element-wise. */
    private static NodeRole operationRole(KerasLayer layer) {
        if (layer.className().equals("Concatenate")) {
            return NodeRole.CONCAT; // keras.ops.concatenate, with its axis in the config as the layer's
        }
        if (!ARITHMETIC.contains(layer.className())) {
            return NodeRole.OPAQUE;
        }
        JsonNode args = layer.entry().path("inbound_nodes").path(0).path("args");
        int[] counts = new int[3]; // tensors, numbers, other
        countLeaves(args, counts);
        if (counts[2] > 0) {
            return NodeRole.OPAQUE;
        }
        return counts[0] == 1 ? NodeRole.PER_CHANNEL : NodeRole.ELEMENTWISE;
    }

    private static void countLeaves(JsonNode node, int[] counts) {
        if (node.isObject() && "__keras_tensor__".equals(node.path("class_name").asText())) {
            counts[0]++;
        } else if (node.isNumber()) {
            counts[1]++;
        } else if (node.isArray() && node.size() > 0 && node.get(0).isNumber() && node.size() > 1) {
            counts[2]++; // a per-element constant: its channel meaning is unknown
        } else if (node.isArray()) {
            node.forEach(item -> countLeaves(item, counts));
        } else {
            counts[2]++;
        }
    }

    static NodeRole role(KerasLayer layer) {
        String cls = layer.className();
        JsonNode config = layer.config();
        if (isOperation(layer.entry())) {
            return operationRole(layer);
        }
        if (MODELS.contains(cls) || layer.isModel()) {
            return NodeRole.NESTED_MODEL;
        }
        if (CONVOLUTIONS.contains(cls) || cls.equals("Dense") || cls.startsWith("DepthwiseConv")
                || cls.startsWith("SeparableConv") || cls.startsWith("SeparableConvolution")
                || cls.startsWith("LocallyConnected")) {
            return NodeRole.MIXES_CHANNELS;
        }
        if (cls.equals("Rescaling")) {
            return config.path("scale").isArray() || config.path("offset").isArray()
                    ? NodeRole.PER_CHANNEL_CONSTANTS : NodeRole.PER_CHANNEL;
        }
        if (cls.equals("Normalization") || cls.equals("BatchNormalization")) {
            return NodeRole.PER_CHANNEL_CONSTANTS;
        }
        if (cls.equals("Activation")) {
            String fn = activationName(config.path("activation"));
            return fn.equals("softmax") || fn.equals("log_softmax") ? NodeRole.MIXES_CHANNELS : NodeRole.PER_CHANNEL;
        }
        if (PER_CHANNEL.contains(cls)) {
            return NodeRole.PER_CHANNEL;
        }
        if (ELEMENTWISE.contains(cls)) {
            return NodeRole.ELEMENTWISE;
        }
        if (cls.equals("Concatenate") || cls.equals("Merge") && "concat".equals(config.path("mode").asText())) {
            return NodeRole.CONCAT;
        }
        if (cls.equals("Flatten")) {
            return NodeRole.FLATTEN;
        }
        return NodeRole.OPAQUE;
    }

    /** Why a channel-reading layer cannot be adapted exactly, or null when it can. */
    static String refusal(KerasLayer layer) {
        String cls = layer.className();
        JsonNode config = layer.config();
        if (cls.equals("Activation")) {
            return "its " + activationName(config.path("activation")) + " normalises across channels, which is not linear";
        }
        if (cls.startsWith("DepthwiseConv")) {
            return "a depthwise convolution keeps each channel separate, so its output count follows the input's and"
                    + " every later layer would change; rechannel adapts layers that mix channels";
        }
        if (cls.startsWith("LocallyConnected")) {
            return "locally connected layers are not supported";
        }
        int groups = config.path("groups").asInt(1);
        if (groups > 1) {
            return "its groups=" + groups + " split the channels into separate convolutions; the new channel count"
                    + " would have to divide into the same groups and no channel may mix across them";
        }
        return null;
    }

    static ChannelAxis channelAxis(KerasLayer layer) {
        JsonNode config = layer.config();
        String format = config.path("data_format").asText("");
        if (format.equals("channels_first") || config.path("dim_ordering").asText("").equals("th")) {
            return ChannelAxis.FIRST;
        }
        if (format.equals("channels_last") || config.path("dim_ordering").asText("").equals("tf")) {
            return ChannelAxis.LAST;
        }
        if (layer.className().equals("Normalization") || layer.className().equals("BatchNormalization")) {
            JsonNode axis = config.path("axis");
            int value = axis.isArray() ? (axis.size() == 1 ? axis.get(0).asInt() : 0) : axis.asInt(-1);
            return value == -1 ? ChannelAxis.LAST : value == 1 ? ChannelAxis.FIRST : null;
        }
        return null;
    }

    static boolean isTranspose(String cls) {
        return cls.contains("Transpose") || cls.equals("Deconvolution2D");
    }

    private static String activationName(JsonNode activation) {
        if (activation.isTextual()) {
            return activation.asText();
        }
        return activation.path("config").path("name").asText(activation.path("class_name").asText("")).toLowerCase();
    }
}
