package io.rechannel.transfer;

import io.rechannel.core.RechannelException;

/** A transfer refused after planning (too much of the target left as it was, a required tensor not transferred), with its report. */
public final class TransferException extends RechannelException {

    private final transient TransferReport report;

    TransferException(String message, TransferReport report) {
        super(Kind.INEXACT, message);
        this.report = report;
    }

    /** What the transfer would have done; nothing was written. */
    public TransferReport report() {
        return report;
    }
}
