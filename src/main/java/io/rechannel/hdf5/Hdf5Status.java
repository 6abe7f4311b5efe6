package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;

/** The one way a failed call of the HDF5 library becomes a message: the file, the action, the object. */
final class Hdf5Status {

    private Hdf5Status() {
    }

    /** Returns {@code status}, or fails when the library reported an error (a negative status). */
    static long check(String label, long status, String object, String action) {
        if (status < 0) {
            throw RechannelException.malformed(label + ": cannot " + action + " " + object + " (damaged or unexpected file)");
        }
        return status;
    }
}
