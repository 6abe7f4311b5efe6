package io.rechannel.cli;

import io.rechannel.Rechannel;
import io.rechannel.core.AdaptOptions;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.RunRecord;
import io.rechannel.format.VerificationFailedException;
import io.rechannel.format.VerifyResult;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

final class ExtendCommand implements Callable<Integer> {

    private final CommandSpec spec = Specs.command(this, "extend",
            "Write a copy of MODEL whose input has the channels given by --to, keeping every pretrained weight.");

    static CommandSpec spec() {
        CommandSpec spec = new ExtendCommand().spec;
        spec.addPositional(Specs.file(0, "MODEL", "The model file (never modified)."));
        spec.addOption(OptionSpec.builder("-o", "--output").required(true).paramLabel("OUT").type(Path.class)
                .description("Where to write the adapted model.").build());
        spec.addOption(Specs.flag("--force", "Overwrite OUT if it exists."));
        spec.addOption(Specs.flag("--drop-optimizer", "Remove saved optimizer state instead of adapting it."));
        spec.addOption(Specs.flag("--verify", "Verify the new model numerically (as the verify command) before it is"
                + " written under OUT; when verification fails, nothing is written."));
        spec.addOption(Specs.flag("--bake-preprocessing", "Put the preprocessing the input contract asks for outside the"
                + " model (its means and stds, from the model or --norm) into the new model as layers at its input, so that"
                + " it takes raw values (Keras and ONNX; not state dicts)."));
        MapOptions.declare(spec, true);
        ModelOptions.declare(spec);
        return spec;
    }

    @Override
    public Integer call() {
        Path model = Specs.file(spec, 0);
        Path output = Specs.value(spec, "--output");
        MapOptions map = MapOptions.of(spec);
        ModelOptions options = ModelOptions.of(spec);
        AdaptOptions adapt = map.toOptions(options, Specs.isSet(spec, "--drop-optimizer")).withTensors(options.tensors())
                .withBake(Specs.isSet(spec, "--bake-preprocessing")).progress(new ConsoleProgress());
        RunRecord.reading(model);
        PrintWriter out = spec.commandLine().getOut();
        AdaptResult result;
        try {
            adapt = Specs.isSet(spec, "--force") ? adapt.overwrite() : adapt;
            result = Specs.isSet(spec, "--verify") ? Rechannel.extendVerified(model, output, adapt)
                    : Rechannel.extend(model, output, adapt);
        } catch (VerificationFailedException failed) {
            print(out, failed.report(), options.json());
            throw failed;
        }
        result.warnings().forEach(warning -> spec.commandLine().getErr().println("rechannel: warning: " + Flags.render(warning)));
        if (options.json()) {
            Output.json(out, result);
        } else {
            out.println("wrote " + result.output() + ": " + result.from() + " -> " + result.to());
            out.println("  channels: " + String.join(", ", result.rules()));
            result.changes().forEach(change -> out.println("  " + Flags.render(change)));
            result.notes().forEach(note -> out.println("note: " + Flags.render(note)));
            if (result.contract() != null) {
                out.println("input: " + result.contract().describe() + " (" + result.output() + ".input.json)");
            }
            if (result.verification() != null) {
                VerifyCommand.print(out, result.verification());
            }
        }
        return 0;
    }

    private static void print(PrintWriter out, VerifyResult proof, boolean json) {
        if (json) {
            Output.json(out, proof);
        } else {
            VerifyCommand.print(out, proof);
        }
    }

}
