package io.rechannel.format;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;

import java.util.Arrays;
import java.util.List;

/**
 * What a model expects at one input, whatever its format: the channels in order, by name, and the
 * preprocessing that must happen outside the model. Values are fed as {@code (x - mean) / std} per channel,
 * {@code x} in the units the convention names ({@code 0-255} for images); {@code mean}/{@code std} are null
 * when the convention is unknown. {@code inside} lists the preprocessing already in the model.
 *
 * @param input      the input's name
 * @param layout     {@code channels_last} or {@code channels_first}
 * @param channels   the channel names, in the order the input takes them
 * @param convention {@code caffe}, {@code tf}, {@code torch}, {@code in-model}, or {@code unknown}
 * @param units      the range of the raw values the mean and std apply to, e.g. {@code 0-255}
 * @param mean       per channel, subtracted outside the model; null when unknown
 * @param std        per channel, divided by outside the model; null when unknown
 * @param inside     the preprocessing layers or nodes inside the model, one line each
 * @param notes      how to feed the model, one line each
 */
public record InputContract(String input, String layout, List<String> channels, String convention, String units,
                            List<Double> mean, List<Double> std, List<String> inside, List<String> notes) {

    public InputContract {
        channels = List.copyOf(channels);
        mean = mean == null ? null : List.copyOf(mean);
        std = std == null ? null : List.copyOf(std);
        inside = List.copyOf(inside);
        notes = List.copyOf(notes);
    }

    /**
     * The contract of the adapted model: channels renamed by the map, and each new channel's mean and std
     * by the rule for in-model statistics (a kept channel keeps its own; a new one takes the |M|-weighted
     * average of its sources').
     */
    public InputContract extended(ChannelMap map, List<String> extraNotes) {
        List<String> allNotes = new java.util.ArrayList<>(notes);
        allNotes.addAll(extraNotes);
        return new InputContract(input, layout, map.to().names(), convention, units, remap(mean, map), remap(std, map),
                inside, allNotes);
    }

    private static List<Double> remap(List<Double> values, ChannelMap map) {
        if (values == null) {
            return null;
        }
        double[] old = values.stream().mapToDouble(Double::doubleValue).toArray();
        double[] remapped = ChannelMixer.remapConstants(old, AxisView.whole(1, old.length, 1), map);
        return Arrays.stream(remapped).map(v -> Math.round(v * 1e6) / 1e6).boxed().toList();
    }

    /** One line for {@code inspect} and {@code extend}: feed R,G,B,Y as (x - [..]) / [..] on 0-255. */
    public String describe() {
        String how = mean == null ? "preprocessing outside the model unknown"
                : "(x - " + mean + ") / " + std + " per channel, x in " + units;
        return "input '" + input + "' (" + layout + ") takes " + String.join(",", channels) + " in this order; "
                + convention + ": " + how;
    }
}
