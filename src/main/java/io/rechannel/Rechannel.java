package io.rechannel;

import io.rechannel.core.AdaptOptions;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.OutputCheck;
import io.rechannel.format.Progress;
import io.rechannel.format.VerificationFailedException;
import io.rechannel.format.VerifyResult;

import java.nio.file.Path;

/**
 * rechannel as a library: inspect, extend and verify models of any format it reads, the format found from
 * the file itself. Options are built fluently ({@link AdaptOptions#to(String)}); failures are a
 * {@link io.rechannel.core.RechannelException} naming the file, the part at fault and the reason.
 *
 * <pre>{@code
 * AdaptResult result = Rechannel.extend(input, output, AdaptOptions.to("RGBY").from("BGR").init("Y=B"));
 * }</pre>
 */
public final class Rechannel {

    private Rechannel() {
    }

    /** The format that reads {@code model}, found by its name and first bytes among those on the class path. */
    public static ModelFormat format(Path model) {
        return ModelFormats.forFile(model);
    }

    /** Describes a model: its inputs, the layers that depend on their channels, its per-channel preprocessing. */
    public static Inspection inspect(Path model) {
        return inspect(model, AdaptOptions.defaults());
    }

    /** As {@link #inspect(Path)}, with the choices of {@code options} that analysis reads (input, layers, format options). */
    public static Inspection inspect(Path model, AdaptOptions options) {
        return format(model).inspect(model, options.analysisOnly());
    }

    /**
     * Writes {@code output}: {@code input} with its input channels adapted as {@code options} say, in the input's
     * format. The input is never modified; the output appears complete or not at all, and replaces an existing
     * file only with {@link AdaptOptions#overwrite()}.
     */
    public static AdaptResult extend(Path input, Path output, AdaptOptions options) {
        return extend(input, output, options, OutputCheck.NONE);
    }

    /**
     * As {@link #extend(Path, Path, AdaptOptions)}, running {@code beforeCommit} on the finished model (in its
     * staging folder, with any files beside it) before it is committed: when the check throws, nothing is written.
     */
    public static AdaptResult extend(Path input, Path output, AdaptOptions options, OutputCheck beforeCommit) {
        return format(input).extend(input, output, options.overwrites(), options, beforeCommit);
    }

    /**
     * As {@link #extend(Path, Path, AdaptOptions)}, proving the finished model numerically (as {@link #verify}) before
     * it is committed: the result carries the verification's report ({@link AdaptResult#verification()}), and a model
     * that fails it is not written: a {@link VerificationFailedException} carries the report instead.
     */
    public static AdaptResult extendVerified(Path input, Path output, AdaptOptions options) {
        ModelFormat format = format(input);
        VerifyResult[] proof = new VerifyResult[1];
        OutputCheck check = written -> {
            proof[0] = format.verify(input, written, options).withAdapted(output.toString());
            if (!proof[0].passed()) {
                throw new VerificationFailedException(output.toString(), proof[0]);
            }
        };
        return format.extend(input, output, options.overwrites(), options, check).withVerification(proof[0]);
    }

    /** Proves numerically that {@code adapted} is {@code original} with its input channels mapped, recovering the map. */
    public static VerifyResult verify(Path original, Path adapted) {
        return verify(original, adapted, AdaptOptions.defaults());
    }

    /**
     * Proves numerically that {@code adapted} is {@code original} with its input channels mapped as {@code options}
     * say (or, when they give no map, as the weights show); its long steps are reported to the options' listener.
     */
    public static VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        return Progress.reportingTo(options.progress(), () -> format(original).verify(original, adapted, options));
    }
}
