package io.rechannel.format;

import java.util.List;

/** What {@code extend} did. */
public record AdaptResult(String input, String output, String from, String to, List<String> rules,
                          List<String> changes, List<String> notes, VerifyResult verification) {

    public AdaptResult withVerification(VerifyResult result) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, result);
    }

    /** The same result for the output named {@code name}. */
    public AdaptResult withOutput(String name) {
        return new AdaptResult(input, name, from, to, rules, changes, notes, verification);
    }
}
