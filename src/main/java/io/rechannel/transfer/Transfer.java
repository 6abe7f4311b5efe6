package io.rechannel.transfer;

import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.TensorStore;
import io.rechannel.transfer.TransferReport.Entry;
import io.rechannel.transfer.TransferReport.Status;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Puts a pretrained model's weights into another model (the target): the output has the target's
 * architecture and format, and the pretrained values wherever they belong, across Keras, ONNX and PyTorch
 * state dicts. Each target tensor is paired with a pretrained one ({@link TensorMatcher}), laid out as the
 * target's framework lays it out ({@link Layouts}), its input channels mapped where the input differs, and
 * written; what cannot be transferred keeps the target's own values and the report says why. The output is
 * written only when the transfer is complete enough: every required tensor transferred, and no more than the
 * allowed share of the target's values left as they were.
 */
public final class Transfer {

    private static final Set<Status> TRANSFERRED = Set.of(Status.COPIED, Status.ADAPTED, Status.RESIZED);

    private Transfer() {
    }

    /** Runs the transfer and writes the output; the report says what happened to every target tensor. */
    public static TransferReport run(TransferRequest request) {
        ModelFormat from = ModelFormats.forFile(request.from());
        ModelFormat into = ModelFormats.forFile(request.into());
        List<Path> pretrainedParts = from.parts(request.from());
        refuseOutputAmong(pretrainedParts, request.output(), "the pretrained model");
        List<Path> inputs = new ArrayList<>(into.parts(request.into()));
        inputs.addAll(pretrainedParts);
        try (AtomicOutput out = AtomicOutput.prepare(inputs, request.output(), request.overwrite());
             TensorStore pretrained = open(from, request.from());
             TensorStore target = open(into, request.into())) {
            TransferPlanner.Plan plan = new TransferPlanner(request, pretrained, target).plan();
            check(request, plan.report());
            target.write(out.path(), plan.edits(), false, false);
            out.commit();
            return plan.report().writtenTo(request.output().toString());
        } catch (TransferException e) {
            throw e;
        } catch (RechannelException e) {
            throw AtomicOutput.withoutScratchNames(e);
        }
    }

    private static TensorStore open(ModelFormat format, Path file) {
        return format.openTensors(file).orElseThrow(() -> RechannelException.unsupported(file + ": " + format.description()
                + " files cannot be read tensor by tensor; transfer reads Keras, ONNX and PyTorch state dicts"));
    }

    /** An output that is a file of the pretrained model is refused by name (the target's are refused when staged). */
    private static void refuseOutputAmong(List<Path> parts, Path output, String what) {
        if (!Files.exists(output)) {
            return;
        }
        for (Path part : parts) {
            try {
                if (Files.isSameFile(part, output)) {
                    throw RechannelException.usage(output + ": is " + part + ", a file of " + what
                            + "; rechannel never modifies its input");
                }
            } catch (IOException e) {
                // a part that cannot be compared is not the output
            }
        }
    }

    /** Refuses a transfer that leaves a required tensor, or too much of the target, as it was. */
    private static void check(TransferRequest request, TransferReport report) {
        for (String name : request.required()) {
            Entry entry = report.tensors().stream().filter(e -> e.tensor().equals(name)).findFirst()
                    .orElseThrow(() -> RechannelException.usage("--require " + name + ": " + report.target()
                            + " has no such tensor"));
            if (!TRANSFERRED.contains(entry.status())) {
                throw new TransferException(report.target() + ": tensor '" + name + "' (required) would keep the target's"
                        + " own values: " + entry.detail() + "; nothing written", report);
            }
        }
        double kept = report.keptShare();
        if (kept > request.maxKept()) {
            throw new TransferException(String.format(Locale.ROOT, "%s: %.1f%% of the target's values would keep the"
                            + " target's own (%s), over the limit of %.0f%% (--max-kept); is %s the right pretrained model?"
                            + " nothing written", report.target(), 100 * kept, report.totals().replaceAll(";.*", ""),
                    100 * request.maxKept(), report.pretrained()), report);
        }
    }
}
