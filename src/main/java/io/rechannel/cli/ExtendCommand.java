package io.rechannel.cli;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "extend", mixinStandardHelpOptions = true,
        description = "Write a copy of MODEL whose input has the channels given by --to, keeping every pretrained weight.")
final class ExtendCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model file (never modified).")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Where to write the adapted model.")
    Path output;

    @Option(names = "--force", description = "Overwrite OUT if it exists.")
    boolean force;

    @Option(names = "--drop-optimizer", description = "Remove saved optimizer state instead of adapting it.")
    boolean dropOptimizer;

    @Option(names = "--verify", description = "Verify the written model numerically (as the verify command).")
    boolean verify;

    @Mixin
    MapOptions map;

    @Mixin
    ModelOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (map.to == null) {
            throw RechannelException.usage("--to is required: the channels the new model takes (e.g. --to RGBY)");
        }
        AdaptOptions adapt = map.toOptions(options, dropOptimizer).withTensors(options.tensors);
        ModelFormat format = ModelFormats.forFile(model);
        AdaptResult result = format.extend(model, output, force, adapt);
        if (verify) {
            result = result.withVerification(format.verify(model, output, adapt));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Output.json(out, result);
        } else {
            out.println("wrote " + result.output() + ": " + result.from() + " -> " + result.to());
            out.println("  channels: " + String.join(", ", result.rules()));
            result.changes().forEach(change -> out.println("  " + change));
            result.notes().forEach(note -> out.println("note: " + note));
            if (result.verification() != null) {
                VerifyCommand.print(out, result.verification());
            }
        }
        return result.verification() == null || result.verification().passed() ? 0
                : RechannelException.Kind.INEXACT.exitCode();
    }
}
