package io.rechannel.cli;

import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code rechannel} command. Exit codes: 0 success; 1 unexpected internal error; 2 bad arguments;
 * 3 file cannot be read or written; 4 malformed file (also when a native library crashes reading it:
 * {@code bin/rechannel} reports that); 5 unsupported model feature; 6 a layer's channel behaviour is
 * unknown; 7 the adaptation cannot be exact, verification failed, or a transfer would leave a required tensor
 * or too much of the target as it was; 8 verification cannot prove anything from the weights.
 */
public final class Main implements Runnable {

    static {
        // picocli otherwise looks for Groovy on the class path, opening every jar, before the first command
        System.setProperty("picocli.disable.closures", "true");
    }

    private final CommandSpec spec = Specs.command(this, "rechannel",
            "Adapt pretrained vision models to a different number or meaning of input channels.");

    public static void main(String[] args) {
        System.exit(commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args));
    }

    /** Without a command: a usage error. */
    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: inspect, extend, verify or transfer");
    }

    /** The configured command line, writing to the given streams (tests capture them). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandSpec spec = new Main().spec.version("rechannel 0.1.0");
        spec.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes());
        spec.addSubcommand("inspect", InspectCommand.spec());
        spec.addSubcommand("extend", ExtendCommand.spec());
        spec.addSubcommand("verify", VerifyCommand.spec());
        spec.addSubcommand("transfer", TransferCommand.spec());
        spec.addSubcommand("help", HelpCommand.spec());
        CommandLine cli = new CommandLine(spec);
        cli.setOut(out);
        cli.setErr(err);
        Errors errors = new Errors(err);
        cli.setParameterExceptionHandler(errors);
        cli.setExecutionExceptionHandler(errors);
        return cli;
    }

    private static Map<String, String> exitCodes() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" 0", "success");
        codes.put(" 1", "unexpected internal error");
        codes.put(" 2", "bad arguments");
        codes.put(" 3", "a file cannot be read or written (missing input, existing output without --force)");
        codes.put(" 4", "malformed or damaged model file (also: the native library crashed reading it)");
        codes.put(" 5", "a model feature rechannel does not support");
        codes.put(" 6", "a layer's channel behaviour cannot be read from the model");
        codes.put(" 7", "the adaptation cannot be exact, verification found a difference, or a transfer would leave"
                + " a required tensor or too much of the target as it was");
        codes.put(" 8", "verification cannot prove anything from the weights (map not recoverable, all taps zero)");
        return codes;
    }

    /**
     * Every error as one line (one JSON line with --json). A class rather than lambdas: lambdas for
     * picocli's Java 5 interfaces keep those out of the class-data-sharing archive.
     */
    private static final class Errors implements CommandLine.IParameterExceptionHandler,
            CommandLine.IExecutionExceptionHandler {

        private final PrintWriter err;

        Errors(PrintWriter err) {
            this.err = err;
        }

        @Override
        public int handleParseException(CommandLine.ParameterException e, String[] args) {
            List<String> unmatched = e.getCommandLine().getUnmatchedArguments();
            if (e instanceof CommandLine.MissingParameterException && !unmatched.isEmpty()) {
                // picocli checks required options before unknown ones: a misspelt --to is the mistake to name
                e = new CommandLine.UnmatchedArgumentException(e.getCommandLine(), unmatched);
            }
            String help = e.getCommandLine().getCommandSpec().qualifiedName();
            String message = e.getMessage().strip().replaceAll("\\s*\\R\\s*", " ") + suggestion(e)
                    + "; see '" + help + " --help'";
            report(err, Arrays.asList(args).contains("--json"), message, "usage", CommandLine.ExitCode.USAGE);
            return CommandLine.ExitCode.USAGE;
        }

        @Override
        public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
            CommandLine.ParseResult sub = parseResult.subcommand();
            boolean debug = sub != null && sub.hasMatchedOption("--debug");
            boolean json = sub != null && sub.hasMatchedOption("--json");
            PrintWriter errors = commandLine.getErr();
            if (debug) {
                e.printStackTrace(errors);
            }
            String kind = e instanceof RechannelException r ? r.kind().name().toLowerCase(Locale.ROOT) : "internal";
            int code = e instanceof RechannelException r ? r.kind().exitCode() : 1;
            String message = e instanceof RechannelException ? Flags.render(AtomicOutput.withoutScratchNames(e.getMessage()))
                    : "internal error: " + e + (debug ? "" : " (run with --debug for details)");
            report(errors, json, message, kind, code);
            return code;
        }
    }

    /** One line: plain, or JSON for scripts that asked for JSON. */
    private static final java.util.regex.Pattern CONTROL = java.util.regex.Pattern.compile("[\\p{Cntrl}\u2028\u2029]");

    private static void report(PrintWriter errors, boolean json, String message, String kind, int code) {
        if (json) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("error", message);
            error.put("kind", kind);
            error.put("exitCode", code);
            Output.jsonLine(errors, error);
        } else {
            // names read from a model may hold line breaks or terminal escapes: the message stays one line
            errors.println("rechannel: " + CONTROL.matcher(message)
                    .replaceAll(m -> String.format("\\\\u%04x", (int) m.group().charAt(0))));
        }
    }

    private static String suggestion(CommandLine.ParameterException e) {
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            return " (did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?)";
        }
        return "";
    }
}
