package io.rechannel.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The outside preprocessing a model file records in its string metadata (ONNX {@code metadata_props},
 * safetensors {@code __metadata__}), under the keys in use: {@code pretrained_cfg} (timm's config as JSON,
 * {@code mean} and {@code std} on 0-1 images), {@code image_mean}/{@code image_std} (Hugging Face image
 * processors, 0-1 images), {@code mean}/{@code std} (JSON arrays or comma lists, in units the metadata does not
 * say), and Windows ML's {@code Image.NominalPixelRange}. Anything else: unknown.
 */
public final class RecordedNorm {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RecordedNorm() {
    }

    /** What {@code metadata} says for a model of {@code channels} channels; {@code where} names the metadata in messages. */
    public static OutsideNorm of(Map<String, String> metadata, int channels, String where) {
        try {
            String cfg = metadata.get("pretrained_cfg");
            if (cfg != null) {
                JsonNode json = JSON.readTree(cfg);
                return known("0-1", numbers(json.path("mean")), numbers(json.path("std")), channels,
                        where + " 'pretrained_cfg'");
            }
            for (String[] keys : List.of(new String[] {"image_mean", "image_std", "0-1"},
                    new String[] {"mean", "std", "not recorded (the metadata's own)"})) {
                if (metadata.containsKey(keys[0]) && metadata.containsKey(keys[1])) {
                    return known(keys[2], numbers(metadata.get(keys[0])), numbers(metadata.get(keys[1])), channels,
                            where + " '" + keys[0] + "', '" + keys[1] + "'");
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return OutsideNorm.unknown(where + " hold a mean and std that cannot be read ("
                    + String.valueOf(e.getMessage()).replaceAll("\\s+", " ") + ")");
        }
        String range = metadata.getOrDefault("Image.NominalPixelRange", "");
        String source = where + " 'Image.NominalPixelRange' = " + range;
        return switch (range.toLowerCase(Locale.ROOT)) {
            case "nominalrange_0_255" -> known("0-255", List.of(0.0), List.of(1.0), channels, source);
            case "normalized_0_1" -> known("0-1", List.of(0.0), List.of(1.0), channels, source);
            case "normalized_1_1" -> known("0-1", List.of(0.5), List.of(0.5), channels, source);
            default -> OutsideNorm.unknown("not recorded in the file: no pretrained_cfg, image_mean/image_std, mean/std or"
                    + " Image.NominalPixelRange in " + where);
        };
    }

    private static OutsideNorm known(String units, List<Double> mean, List<Double> std, int channels, String source) {
        if (mean.isEmpty() || std.isEmpty() || std.stream().anyMatch(s -> !(s > 0) || !Double.isFinite(s))
                || mean.stream().anyMatch(m -> !Double.isFinite(m))) {
            return OutsideNorm.unknown(source + " holds no usable mean and std");
        }
        List<Double> m = mean.size() == 1 ? Collections.nCopies(channels, mean.get(0)) : mean;
        List<Double> s = std.size() == 1 ? Collections.nCopies(channels, std.get(0)) : std;
        if (m.size() != channels || s.size() != channels) {
            return OutsideNorm.unknown(source + " gives " + mean.size() + " values, but the input has " + channels + " channels");
        }
        return new OutsideNorm("metadata", units, m, s, source, List.of());
    }

    /** A JSON array or a comma-separated list of numbers (enclosing brackets or parentheses ignored). */
    private static List<Double> numbers(String text) throws java.io.IOException {
        String trimmed = text.trim();
        if (trimmed.startsWith("[")) {
            return numbers(JSON.readTree(trimmed));
        }
        String inner = trimmed.replaceAll("^\\(|\\)$", "");
        return Arrays.stream(inner.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Double::parseDouble).toList();
    }

    private static List<Double> numbers(JsonNode array) {
        List<Double> values = new ArrayList<>();
        array.forEach(v -> values.add(v.isNumber() ? v.asDouble() : Double.NaN));
        return values;
    }
}
