package io.rechannel.cli;

import io.rechannel.core.AdaptOptions;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.RunRecord;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

final class InspectCommand implements Callable<Integer> {

    private final CommandSpec spec = Specs.command(this, "inspect",
            "Show a model's inputs, the layers that depend on their channels, and per-channel preprocessing.");

    static CommandSpec spec() {
        CommandSpec spec = new InspectCommand().spec;
        spec.addPositional(Specs.file(0, "MODEL", "The model file."));
        ModelOptions.declare(spec);
        return spec;
    }

    @Override
    public Integer call() {
        Path model = Specs.file(spec, 0);
        ModelOptions options = ModelOptions.of(spec);
        RunRecord.reading(model);
        Inspection inspection = ModelFormats.forFile(model).inspect(model,
                AdaptOptions.analysisOnly(options.input(), options.channelIndependent(), options.layer(), options.config())
                        .withTensors(options.tensors()).withNorm(options.normSpec()));
        PrintWriter out = spec.commandLine().getOut();
        if (options.json()) {
            Output.json(out, inspection);
            return 0;
        }
        out.println(inspection.file() + " (" + inspection.format() + ")");
        inspection.details().forEach((k, v) -> out.println("  " + k + ": " + v));
        out.println("  parameters: " + inspection.parameters());
        for (Inspection.InputInfo input : inspection.inputs()) {
            out.println("input " + input.name() + (input.shape() == null ? "" : " shape " + input.shape()) + " " + input.dataFormat() + ", "
                    + (input.channels() < 0 ? "unknown" : input.channels()) + " channels");
        }
        for (Inspection.LayerInfo layer : inspection.preprocessing()) {
            out.println("  per-channel preprocessing: " + layer.name() + " (" + layer.type() + ") " + layer.weights()
                    + (layer.detail().isEmpty() ? "" : " " + layer.detail()));
        }
        for (Inspection.LayerInfo layer : inspection.channelLayers()) {
            out.println("  reads the channels: " + layer.name() + " (" + layer.type() + ") " + layer.weights()
                    + " — " + layer.detail());
        }
        inspection.contracts().forEach(contract -> out.println("input: " + contract.describe()));
        inspection.notes().forEach(note -> out.println("note: " + Flags.render(note)));
        return 0;
    }
}
