package io.rechannel.keras;

import io.rechannel.hdf5.Hdf5File;

/** A Keras model opened for reading, whatever file it came from. */
sealed interface KerasModelView permits KerasH5Model, KerasV3Model {

    KerasModelGraph graph();

    KerasWeightStore store();

    /** The HDF5 file holding the variables. */
    Hdf5File file();

    /** False when the file carries no config and the input layer was taken from the saved layer order. */
    boolean hasConfig();

    String kerasVersion();

    String backend();

    /**
     * True when the config came from another file ({@code --config}): its recorded channel counts
     * describe that file's model, so the channel count is read from the weights instead.
     */
    default boolean configFromElsewhere() {
        return false;
    }
}
