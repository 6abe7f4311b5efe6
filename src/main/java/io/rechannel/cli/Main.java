package io.rechannel.cli;

import io.rechannel.core.RechannelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code rechannel} command. Exit codes: 0 success; 1 unexpected internal error; 2 bad arguments;
 * 3 file cannot be read or written; 4 malformed file; 5 unsupported model feature; 6 a layer's channel
 * behaviour is unknown; 7 the adaptation cannot be exact or verification failed.
 */
@Command(name = "rechannel", mixinStandardHelpOptions = true, version = "rechannel 0.1.0",
        description = "Adapt pretrained vision models to a different number or meaning of input channels.",
        subcommands = {InspectCommand.class, ExtendCommand.class, VerifyCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            " 0:success",
            " 1:unexpected internal error",
            " 2:bad arguments",
            " 3:a file cannot be read or written (missing input, existing output without --force)",
            " 4:malformed or damaged model file",
            " 5:a model feature rechannel does not support",
            " 6:a layer's channel behaviour cannot be read from the model",
            " 7:the adaptation cannot be exact, or verification found a difference"})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args));
    }

    /** The configured command line, writing to the given streams (tests capture them). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            CommandLine.ParseResult sub = parseResult.subcommand();
            boolean debug = sub != null && sub.hasMatchedOption("--debug");
            boolean json = sub != null && sub.hasMatchedOption("--json");
            PrintWriter errors = commandLine.getErr();
            if (debug) {
                e.printStackTrace(errors);
            }
            String kind = e instanceof RechannelException r ? r.kind().name().toLowerCase(java.util.Locale.ROOT) : "internal";
            int code = e instanceof RechannelException r ? r.kind().exitCode() : 1;
            String message = e instanceof RechannelException ? e.getMessage()
                    : "internal error: " + e + (debug ? "" : " (run with --debug for details)");
            if (json) {
                // scripts asking for JSON get their error as one JSON line too
                Output.jsonLine(errors, java.util.Map.of("error", message, "kind", kind, "exitCode", code));
            } else {
                // names read from a model may hold line breaks or terminal escapes: the message stays one line
                errors.println("rechannel: " + java.util.regex.Pattern.compile("[\\p{Cntrl}\u2028\u2029]").matcher(message)
                        .replaceAll(m -> String.format("\\\\u%04x", (int) m.group().charAt(0))));
            }
            return code;
        });
        return cli;
    }
}
