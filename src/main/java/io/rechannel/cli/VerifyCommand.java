package io.rechannel.cli;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.RechannelException;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.Progress;
import io.rechannel.format.RunRecord;
import io.rechannel.format.VerifyResult;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

final class VerifyCommand implements Callable<Integer> {

    private final CommandSpec spec = Specs.command(this, "verify",
            "Prove numerically that ADAPTED is ORIGINAL with its input channels mapped.",
            "Without --to/--init the channel map is recovered from the first adapted layer and reported.");

    static CommandSpec spec() {
        CommandSpec spec = new VerifyCommand().spec;
        spec.addPositional(Specs.file(0, "ORIGINAL", "The model before adaptation (never modified)."));
        spec.addPositional(Specs.file(1, "ADAPTED", "The model written by extend from ORIGINAL (never modified)."));
        MapOptions.declare(spec, false);
        ModelOptions.declare(spec);
        return spec;
    }

    @Override
    public Integer call() {
        Path original = Specs.file(spec, 0);
        Path adapted = Specs.file(spec, 1);
        MapOptions map = MapOptions.of(spec);
        ModelOptions options = ModelOptions.of(spec);
        RunRecord.reading(original);
        RunRecord.reading(adapted);
        AdaptOptions adapt = map.toOptions(options, false).withTensors(options.tensors());
        VerifyResult result = Progress.reportingTo(new ConsoleProgress(),
                () -> ModelFormats.forFile(original).verify(original, adapted, adapt));
        PrintWriter out = spec.commandLine().getOut();
        if (options.json()) {
            Output.json(out, result);
        } else {
            print(out, result);
        }
        return !result.passed() ? RechannelException.Kind.INEXACT.exitCode()
                : result.provable() ? 0 : RechannelException.Kind.UNPROVABLE.exitCode();
    }

    static void print(PrintWriter out, VerifyResult result) {
        out.println((!result.passed() ? "NOT verified: " : result.provable() ? "verified: " : "not provable from the weights: ") + result.adapted() + " = " + result.original()
                + " with " + result.from() + " -> " + result.to() + " (" + String.join(", ", result.rules()) + ")");
        for (VerifyResult.LayerCheck check : result.layers()) {
            out.println(String.format(Locale.ROOT, "  %s %s: max |difference| %.3g (relative %.3g) %s", check.layer(),
                    check.weight(), check.maxAbsDifference(), check.maxRelativeDifference(), check.status()));
        }
        out.println("  " + result.identicalTensors() + " other tensors bit-identical");
        result.problems().forEach(problem -> out.println("  problem: " + Flags.render(problem)));
        result.notes().forEach(note -> out.println("  note: " + Flags.render(note)));
    }
}
