package io.rechannel.format;

import io.rechannel.core.AdaptOptions;
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

    static AdaptResult run(ModelFormat format, Path input, Path output, boolean overwrite, AdaptOptions options,
                           OutputCheck beforeCommit) {
        List<Path> inputs = new ArrayList<>(format.parts(input));
        if (options.formatOptions().config() != null) {
            inputs.add(options.formatOptions().config());
        }
        return Progress.reportingTo(options.progress(), () -> {
            try (AtomicOutput out = AtomicOutput.prepare(inputs, output, overwrite)) {
                AdaptResult result = format.extend(input, out.path(), false, options);
                beforeCommit.check(out.path());
                out.commit();
                return result.withOutput(output.toString());
            } catch (RechannelException e) {
                throw AtomicOutput.withoutScratchNames(e);
            }
        });
    }
}
