package io.rechannel.format;

import java.util.List;

/**
 * What {@code extend} did.
 *
 * @param warnings what the run did as asked but the user may not have meant (one line each, for stderr)
 * @param contract what the new model expects at its input (written beside the output as {@code OUT.input.json}),
 *                 or null where the format does not say
 */
public record AdaptResult(String input, String output, String from, String to, List<String> rules,
                          List<String> changes, List<String> notes, VerifyResult verification, List<String> warnings,
                          InputContract contract) {

    public AdaptResult {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    public AdaptResult(String input, String output, String from, String to, List<String> rules,
                       List<String> changes, List<String> notes, VerifyResult verification) {
        this(input, output, from, to, rules, changes, notes, verification, List.of(), null);
    }

    public AdaptResult withVerification(VerifyResult result) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, result, warnings, contract);
    }

    /** The same result for the output named {@code name}. */
    public AdaptResult withOutput(String name) {
        return new AdaptResult(input, name, from, to, rules, changes, notes, verification, warnings, contract);
    }

    /** The same result with {@code more} warnings. */
    public AdaptResult withWarnings(List<String> more) {
        List<String> all = new java.util.ArrayList<>(warnings);
        all.addAll(more);
        return new AdaptResult(input, output, from, to, rules, changes, notes, verification, all, contract);
    }

    /** The same result with the new model's input contract. */
    public AdaptResult withContract(InputContract inputContract) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, verification, warnings, inputContract);
    }
}
