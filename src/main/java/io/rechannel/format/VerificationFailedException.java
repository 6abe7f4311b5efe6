package io.rechannel.format;

import io.rechannel.core.RechannelException;

import java.util.Locale;

/**
 * A model adapted but not written because verifying it found a difference; carries the report, so that a caller
 * can show every check, not only the first difference.
 */
public final class VerificationFailedException extends RechannelException {

    private final transient VerifyResult report;

    public VerificationFailedException(String output, VerifyResult report) {
        super(Kind.INEXACT, output + ": not written: verification found a difference (" + firstDifference(report) + ")");
        this.report = report;
    }

    /** The verification's full report. */
    public VerifyResult report() {
        return report;
    }

    private static String firstDifference(VerifyResult proof) {
        if (!proof.problems().isEmpty()) {
            return proof.problems().get(0);
        }
        return proof.layers().stream().filter(check -> !check.passed()).findFirst()
                .map(check -> String.format(Locale.ROOT, "%s %s: max |difference| %.3g, relative %.3g", check.layer(),
                        check.weight(), check.maxAbsDifference(), check.maxRelativeDifference()))
                .orElse("see the report");
    }
}
