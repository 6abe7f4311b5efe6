package io.rechannel.core;

/**
 * The planned re-mix of one stored tensor, to be run block by block when its new storage is ready.
 *
 * @param tensor names the tensor in messages (the user's file and the tensor's path in it)
 */
public record Remix(String tensor, TensorLayout layout, Mixing mixing) {

    /** The tensor's real shape after the re-mix. */
    public long[] newShape() {
        return layout.withChannels(mixing.rows()).shape();
    }

    /** Reads every block through {@code in}, writes its mix through {@code out}; see {@link ChannelMixer#mix}. */
    public void run(Blocks.Reader in, Blocks.Writer out, ElementType type) {
        ChannelMixer.mix(layout, mixing, in, out, type, tensor);
    }
}
