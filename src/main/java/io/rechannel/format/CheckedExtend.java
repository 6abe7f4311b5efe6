package io.rechannel.format;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelNameWarnings;
import io.rechannel.core.RechannelException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link ModelFormat#extend(Path, Path, boolean, AdaptOptions, OutputCheck)} for every format: the
 * format writes into a staging folder under the output's own name (so that files it writes beside it,
 * such as ONNX external data, resolve as they will beside the output), the check runs there, and only
 * then is everything committed.
 */
final class CheckedExtend {

    private CheckedExtend() {
    }

    private static AdaptResult withNameWarnings(AdaptResult result) {
        if (result.from() == null || result.to() == null) {
            return result;
        }
        return result.withWarnings(ChannelNameWarnings.of(layout(result.from()), layout(result.to())));
    }

    /** A layout as the result prints it; one name that is no specification (a single channel "c0") stays one name. */
    private static ChannelLayout layout(String printed) {
        try {
            return ChannelLayout.parse(printed);
        } catch (RechannelException e) {
            return new ChannelLayout(List.of(printed));
        }
    }

    /** {@code OUT.input.json} beside the staged output: committed with it, or removed with it. */
    private static void writeContract(Path staged, InputContract contract) {
        Path file = staged.resolveSibling(staged.getFileName() + ".input.json");
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), contract);
        } catch (java.io.IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, file + ": cannot be written: " + e.getMessage());
        }
    }

    static AdaptResult run(ModelFormat format, Path input, Path output, boolean overwrite, AdaptOptions options,
                           OutputCheck beforeCommit) {
        List<Path> inputs = new ArrayList<>(format.parts(input));
        if (options.formatOptions().config() != null) {
            inputs.add(options.formatOptions().config());
        }
        return Progress.reportingTo(options.progress(), () -> {
            try (AtomicOutput out = AtomicOutput.prepare(inputs, output, overwrite)) {
                ModelFormats.checkOutputName(input, output);
                AdaptResult result = format.extend(input, out.path(), false, options);
                if (result.contract() != null) {
                    writeContract(out.path(), result.contract());
                }
                beforeCommit.check(out.path());
                out.commit();
                return withNameWarnings(result.withOutput(output.toString()));
            } catch (RechannelException e) {
                throw AtomicOutput.withoutScratchNames(e);
            }
        });
    }
}
