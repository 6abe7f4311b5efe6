package io.rechannel.keras;

/**
 * One stored variable of a Keras model.
 *
 * @param path  where it is stored (an HDF5 dataset path)
 * @param name  its variable name without prefix or {@code :0} ({@code kernel}, {@code bias}, {@code moving_mean})
 * @param shape its dimensions
 */
record KerasWeight(String path, String name, long[] shape) {

    /** The variable name of a Keras weight name: last path component, without {@code :0}; Keras 1's {@code conv_W} is {@code W}. */
    static String variableName(String weightName) {
        String last = weightName.substring(weightName.lastIndexOf('/') + 1);
        int colon = last.indexOf(':');
        if (colon >= 0) {
            last = last.substring(0, colon);
        }
        if (last.endsWith("_W") || last.endsWith("_b")) {
            last = last.substring(last.length() - 1);
        }
        return switch (last) {
            case "W" -> "kernel";
            case "b" -> "bias";
            case "running_mean" -> "moving_mean";
            case "running_std" -> "moving_variance";
            default -> last;
        };
    }
}
