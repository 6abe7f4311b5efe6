package io.rechannel.pipeline;

import io.rechannel.core.Remix;
import io.rechannel.format.TensorChange;

/**
 * Where an {@link Adaptation} puts its results: the format's writer, which stores them while it streams
 * everything else. Each method returns the change as stored (a format that gives a shared constant a copy of
 * its own reports the copy's name).
 */
public interface EditSink {

    /** Stores a kernel or optimizer state re-mixed block by block, read from the original as the writer goes. */
    TensorChange remix(PlannedTensor tensor, Remix remix, TensorChange change);

    /** Stores new values (constants; a kernel computed whole) with the tensor's new shape. */
    TensorChange replace(PlannedTensor tensor, long[] newShape, double[] values, TensorChange change);

    /** Records new per-channel values in a layer's description; returns the line reporting it. */
    default String replace(PlannedList list, double[] values) {
        throw new UnsupportedOperationException("this format records no per-channel lists");
    }
}
