package io.rechannel.format;

import java.util.List;
import java.util.Map;

/** What {@code inspect} reports of a model. */
public record Inspection(String file, String format, Map<String, String> details, List<InputInfo> inputs,
                         List<LayerInfo> channelLayers, List<LayerInfo> preprocessing, long parameters,
                         List<String> notes, List<InputContract> contracts) {

    public Inspection {
        contracts = contracts == null ? List.of() : List.copyOf(contracts);
    }

    public Inspection(String file, String format, Map<String, String> details, List<InputInfo> inputs,
                      List<LayerInfo> channelLayers, List<LayerInfo> preprocessing, long parameters, List<String> notes) {
        this(file, format, details, inputs, channelLayers, preprocessing, parameters, notes, List.of());
    }

    /** A model input; {@code channels} is -1 when unknown. */
    public record InputInfo(String name, List<Long> shape, String dataFormat, int channels) {
    }

    /** A layer that depends on the input channels, with its variables' shapes. */
    public record LayerInfo(String name, String type, Map<String, List<Long>> weights, String detail) {
    }
}
