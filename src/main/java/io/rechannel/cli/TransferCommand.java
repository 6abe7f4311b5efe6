package io.rechannel.cli;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.RunRecord;
import io.rechannel.transfer.Transfer;
import io.rechannel.transfer.TransferException;
import io.rechannel.transfer.TransferReport;
import io.rechannel.transfer.TransferRequest;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

final class TransferCommand implements java.util.concurrent.Callable<Integer> {

    private final CommandSpec spec = Specs.command(this, "transfer",
            "Write a copy of TARGET holding PRETRAINED's weights wherever they belong (any of the formats), with a report.",
            "OUT has TARGET's architecture and format; every tensor of TARGET is reported: copied, adapted (input"
                    + " channels), resized (a rule), kept (why) or missing.");

    static CommandSpec spec() {
        CommandSpec spec = new TransferCommand().spec;
        spec.addOption(file("--from", "PRETRAINED", "The pretrained model whose weights are taken (never modified)."));
        spec.addOption(file("--into", "TARGET", "The model whose architecture and format the output has (never modified)."));
        spec.addOption(OptionSpec.builder("-o", "--output").required(true).paramLabel("OUT").type(Path.class)
                .description("Where to write the result.").build());
        spec.addOption(Specs.option("--match", "name|order|auto", String.class,
                "How tensors are paired: by normalised name, by order among tensors of one kind, or name then order"
                        + " (default auto).").defaultValue("auto").build());
        spec.addOption(Specs.option("--head", "keep-target|overlap", String.class,
                "A tensor whose shape differs other than in the input channels (a classifier with another class count):"
                        + " keep the target's own values (default) or copy the block both shapes share.").build());
        spec.addOption(Specs.option("--resize", "numpy", String.class,
                "Refill every tensor whose shape differs as numpy.resize does (flattened, repeated), to compare with"
                        + " old scripts; warns for every tensor it scrambles.").build());
        spec.addOption(Specs.option("--from-channels", "SPEC", String.class,
                "The pretrained model's input channels (default RGB for 3 channels).").build());
        spec.addOption(Specs.option("--to-channels", "SPEC", String.class,
                "The target's input channels (default: as many as its input has; e.g. RGBY).").build());
        spec.addOption(Specs.repeated("--init", "RULE",
                "How new input channels start, as for extend: Y=B, copy-last, mean, zeros, random, timm, ...").build());
        spec.addOption(Specs.option("--seed", "N", long.class, "Seed for random initialisation (default 0).")
                .defaultValue("0").build());
        spec.addOption(Specs.repeated("--require", "NAME",
                "A target tensor that must receive pretrained values; the transfer fails otherwise. Repeatable.").build());
        spec.addOption(Specs.option("--max-kept", "SHARE", double.class,
                "Fail when more than this share of the target's values (0 to 1) would keep the target's own values"
                        + " (default 0.5).").defaultValue(String.valueOf(TransferRequest.DEFAULT_MAX_KEPT)).build());
        spec.addOption(Specs.option("--report", "FILE.json", Path.class,
                "Also write the report as JSON to this file (written on failure too).").build());
        spec.addOption(Specs.flag("--force", "Overwrite OUT (and the report file) if it exists."));
        spec.addOption(Specs.flag("--json", "Print the report as JSON."));
        spec.addOption(Specs.flag("--debug", "Print stack traces on errors."));
        return spec;
    }

    private static OptionSpec file(String name, String label, String description) {
        return OptionSpec.builder(name).required(true).paramLabel(label).type(Path.class).description(description).build();
    }

    @Override
    public Integer call() {
        boolean force = Specs.isSet(spec, "--force");
        TransferRequest request = request(force);
        Path reportFile = Specs.value(spec, "--report");
        if (reportFile != null && !force && Files.exists(reportFile, LinkOption.NOFOLLOW_LINKS)) {
            throw new RechannelException(RechannelException.Kind.IO, reportFile + ": exists; pass --force to overwrite it");
        }
        RunRecord.reading(request.from());
        RunRecord.reading(request.into());
        TransferReport report;
        try {
            report = Transfer.run(request);
        } catch (TransferException e) {
            show(e.report(), reportFile, request, force);
            throw e;
        }
        show(report, reportFile, request, force);
        return 0;
    }

    private TransferRequest request(boolean force) {
        String resize = Specs.value(spec, "--resize");
        if (resize != null && !resize.equals("numpy")) {
            throw RechannelException.usage("--resize " + resize + ": the one rule is numpy (numpy.resize)");
        }
        String head = Specs.value(spec, "--head");
        String from = Specs.value(spec, "--from-channels");
        String to = Specs.value(spec, "--to-channels");
        TransferRequest request = TransferRequest.of(Specs.value(spec, "--from"), Specs.value(spec, "--into"),
                        Specs.value(spec, "--output"))
                .withMatching(TransferRequest.Matching.parse(Specs.value(spec, "--match")))
                .withHead(head == null ? TransferRequest.Head.KEEP_TARGET : TransferRequest.Head.parse(head))
                .withChannels(from == null ? null : ChannelLayout.parse(from), to == null ? null : ChannelLayout.parse(to))
                .withInits(Specs.values(spec, "--init"), Specs.<Long>value(spec, "--seed"))
                .withRequired(Specs.values(spec, "--require"))
                .withMaxKept(Specs.<Double>value(spec, "--max-kept"));
        if (resize != null) {
            request = request.withNumpyResize();
        }
        return force ? request.overwriting() : request;
    }

    /** The report on the terminal (or as JSON) and, with --report, in its file. */
    private void show(TransferReport report, Path reportFile, TransferRequest request, boolean force) {
        PrintWriter out = spec.commandLine().getOut();
        if (Specs.isSet(spec, "--json")) {
            Output.json(out, report.json());
        } else {
            out.print(report.table());
            out.flush();
        }
        if (reportFile != null) {
            try (AtomicOutput file = AtomicOutput.create(List.of(request.from(), request.into(), request.output()),
                    reportFile, force)) {
                Files.writeString(file.path(), report.json().toPrettyString() + "\n", StandardCharsets.UTF_8);
                file.commit();
            } catch (IOException e) {
                throw new RechannelException(RechannelException.Kind.IO, reportFile + ": cannot write: " + e.getMessage(), e);
            }
        }
    }
}
