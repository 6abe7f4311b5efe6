package io.rechannel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.PrintWriter;

/**
 * {@code rechannel help [COMMAND]}: picocli's help command ({@link CommandLine.HelpCommand}, same texts),
 * declared through the programmatic model, since the annotated one is read reflectively.
 */
final class HelpCommand implements CommandLine.IHelpCommandInitializable2, Runnable {

    private CommandLine self;
    private ColorScheme colors;
    private PrintWriter out;

    static CommandSpec spec() {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(new HelpCommand()).name("help").helpCommand(true);
        spec.usageMessage().header("Display help information about the specified command.")
                .synopsisHeading("%nUsage: ")
                .description("%nWhen no COMMAND is given, the usage help for the main command is displayed.",
                        "If a COMMAND is specified, the help for that command is shown.%n");
        spec.addPositional(PositionalParamSpec.builder().index("0").arity("0..1").paramLabel("COMMAND").type(String.class)
                .description("The COMMAND to display the usage help message for.").build());
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show usage help for the help command and exit.").build());
        return spec;
    }

    @Override
    public void init(CommandLine helpCommandLine, ColorScheme colorScheme, PrintWriter outWriter, PrintWriter errWriter) {
        self = helpCommandLine;
        colors = colorScheme;
        out = outWriter;
    }

    @Override
    public void run() {
        CommandLine parent = self.getParent();
        String name = self.getCommandSpec().positionalParameters().get(0).getValue();
        if (name == null) {
            parent.usage(out, colors);
            return;
        }
        CommandLine command = parent.getSubcommands().get(name);
        if (command == null) {
            throw new CommandLine.ParameterException(parent, "Unknown subcommand '" + name + "'.", null, name);
        }
        command.usage(out, colors);
    }
}
