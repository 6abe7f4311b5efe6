package io.rechannel.format;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.rechannel.core.ChannelMap;

import java.util.List;

/**
 * What {@code verify} found.
 *
 * @param layers           the numeric check of each adapted weight
 * @param identicalTensors how many stored tensors outside the adapted layers were compared and found bit-identical
 * @param problems         every difference found; empty when the adaptation is exact
 * @param notes            what was not checked, and why
 * @param map              the channel map checked against (given, or recovered from the weights); null when none could be
 */
public record VerifyResult(String original, String adapted, String from, String to, List<String> rules,
                           List<LayerCheck> layers, long identicalTensors, List<String> problems, List<String> notes,
                           @JsonIgnore ChannelMap map) {

    public VerifyResult(String original, String adapted, String from, String to, List<String> rules,
                        List<LayerCheck> layers, long identicalTensors, List<String> problems, List<String> notes) {
        this(original, adapted, from, to, rules, layers, identicalTensors, problems, notes, null);
    }

    public VerifyResult(String original, String adapted, String from, String to, List<String> rules,
                        List<LayerCheck> layers, long identicalTensors, List<String> problems) {
        this(original, adapted, from, to, rules, layers, identicalTensors, problems, List.of());
    }

    /** The same result for the adapted model named {@code name} (checked under a scratch name before it was committed). */
    public VerifyResult withAdapted(String name) {
        return new VerifyResult(original, name, from, to, rules, layers, identicalTensors,
                problems.stream().map(AtomicOutput::withoutScratchNames).toList(),
                notes.stream().map(AtomicOutput::withoutScratchNames).toList(), map);
    }

    /** True when no difference was found (which proves the adaptation only when it is also {@link #provable}). */
    public boolean passed() {
        return problems.isEmpty() && layers.stream().allMatch(LayerCheck::passed);
    }

    /** False when some weight cannot prove anything (all its taps on the adapted channels are zero). */
    @JsonProperty("provable")
    public boolean provable() {
        return layers.stream().allMatch(LayerCheck::provable);
    }

    /** {@code verified}, {@code difference found}, or {@code not provable from the weights}. */
    @JsonProperty("status")
    public String status() {
        return !passed() ? "difference found" : provable() ? "verified" : "not provable from the weights";
    }

    public double maxAbsDifference() {
        return layers.stream().mapToDouble(LayerCheck::maxAbsDifference).max().orElse(0);
    }

    public double maxRelativeDifference() {
        return layers.stream().mapToDouble(LayerCheck::maxRelativeDifference).max().orElse(0);
    }

    /**
     * One adapted weight: largest difference of any kernel tap between adapted and original on mapped input;
     * {@code provable} is false when the original's taps on the adapted channels are all zero (any map agrees).
     */
    public record LayerCheck(String layer, String weight, double maxAbsDifference, double maxRelativeDifference,
                             boolean passed, boolean provable) {

        public LayerCheck(String layer, String weight, double maxAbsDifference, double maxRelativeDifference, boolean passed) {
            this(layer, weight, maxAbsDifference, maxRelativeDifference, passed, true);
        }

        /** {@code ok}, {@code FAILED}, or {@code not provable from the weights}. */
        @JsonProperty("status")
        public String status() {
            return !passed ? "FAILED" : provable ? "ok" : "not provable from the weights (all taps zero)";
        }
    }
}
