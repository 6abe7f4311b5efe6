package io.rechannel.format;

import java.util.List;

/** What {@code extend} did. */
public record AdaptResult(String input, String output, String from, String to, List<String> rules,
                          List<String> changes, List<String> notes, VerifyResult verification) {

    public AdaptResult withVerification(VerifyResult result) {
        return new AdaptResult(input, output, from, to, rules, changes, notes, result);
    }
}
