package io.rechannel.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/**
 * Runs the typical jobs on the bundled examples once (one of each format), so that a class-data-sharing
 * archive recorded during this run holds every class they load. Used by {@code bin/rechannel} on first use.
 */
public final class Warmup {

    private Warmup() {
    }

    public static void main(String[] args) {
        Path examples = Path.of(args[0]);
        Path scratch = Path.of(args[1]);
        PrintWriter sink = new PrintWriter(new StringWriter());
        // --from BGR: tiny_vgg is caffe-style, and extend stops on such a model without it
        for (String example : new String[] {"tiny_vgg.h5", "tiny_vgg.keras", "small_cnn.onnx"}) {
            Path out = scratch.resolve("warm-" + example);
            Main.commandLine(sink, sink).execute("extend", examples.resolve(example).toString(), "--from", "BGR", "--to", "RGBY",
                    "-o", out.toString(), "--force", "--verify");
            Main.commandLine(sink, sink).execute("inspect", out.toString(), "--json");
        }
    }
}
