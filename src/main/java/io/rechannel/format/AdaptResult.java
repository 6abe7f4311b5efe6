package io.rechannel.format;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code extend} did.
 *
 * @param changes       one line per change, for the report: each tensor change, then recorded shapes and configs
 * @param warnings      what the run did as asked but the user may not have meant (one line each, for stderr)
 * @param contract      what the new model expects at its input (written beside the output as {@code OUT.input.json}),
 *                      or null where the format does not say
 * @param map           the channel map applied (null where a format does not say)
 * @param tensorChanges every stored tensor changed, with its shapes
 */
public record AdaptResult(String input, String output, String from, String to, List<String> rules,
                          List<String> changes, List<String> notes, VerifyResult verification, List<String> warnings,
                          InputContract contract, @JsonIgnore ChannelMap map, List<TensorChange> tensorChanges) {

    /** The report's line when saved optimizer state is removed instead of adapted. */
    public static final String OPTIMIZER_REMOVED = "optimizer state removed (" + OptionName.DROP_OPTIMIZER + ")";

    public AdaptResult {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        tensorChanges = tensorChanges == null ? List.of() : List.copyOf(tensorChanges);
    }

    public AdaptResult(String input, String output, String from, String to, List<String> rules,
                       List<String> changes, List<String> notes, VerifyResult verification) {
        this(input, output, from, to, rules, changes, notes, verification, List.of(), null, null, List.of());
    }

    /**
     * The result of applying {@code map}: the report lists {@code tensorChanges}, then {@code otherChanges}
     * (recorded shapes, configs, removed state).
     */
    public static AdaptResult of(String input, String output, ChannelMap map, List<TensorChange> tensorChanges,
                                 List<String> otherChanges, List<String> notes) {
        List<String> changes = new ArrayList<>(tensorChanges.stream().map(TensorChange::describe).toList());
        changes.addAll(otherChanges);
        return new AdaptResult(input, output, map.from().toString(), map.to().toString(), map.rules(), changes, notes,
                null, List.of(), null, map, tensorChanges);
    }

    public AdaptResult withVerification(VerifyResult result) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, result, warnings, contract, map,
                tensorChanges);
    }

    /** The same result for the output named {@code name}. */
    public AdaptResult withOutput(String name) {
        return new AdaptResult(input, name, from, to, rules, changes, notes, verification, warnings, contract, map,
                tensorChanges);
    }

    /** The same result with more notes. */
    public AdaptResult withNotes(List<String> more) {
        List<String> all = new ArrayList<>(notes);
        all.addAll(more);
        return new AdaptResult(input, output, from, to, rules, changes, all, verification, warnings, contract, map,
                tensorChanges);
    }

    /** The same result with {@code more} warnings. */
    public AdaptResult withWarnings(List<String> more) {
        List<String> all = new ArrayList<>(warnings);
        all.addAll(more);
        return new AdaptResult(input, output, from, to, rules, changes, notes, verification, all, contract, map,
                tensorChanges);
    }

    /** The same result with the new model's input contract. */
    public AdaptResult withContract(InputContract inputContract) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, verification, warnings, inputContract,
                map, tensorChanges);
    }
}
