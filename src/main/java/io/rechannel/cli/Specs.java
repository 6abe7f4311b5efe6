package io.rechannel.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line is declared with picocli's programmatic model rather than its annotations: reading
 * annotations reflectively costs about a third of a run's start-up, and picocli parses, checks and
 * prints help from this model exactly as from annotations. An option is one line here and one read.
 */
final class Specs {

    private Specs() {
    }

    /** A command named {@code name} run by {@code command} (a Runnable or Callable), with -h and -V. */
    static CommandSpec command(Object command, String name, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name(name);
        spec.usageMessage().description(description);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        return spec;
    }

    /** An option taking one value of {@code type}. */
    static OptionSpec.Builder option(String name, String label, Class<?> type, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(type).description(description);
    }

    /** An option that may be given several times, collected in a list. */
    static OptionSpec.Builder repeated(String name, String label, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(List.class).auxiliaryTypes(String.class)
                .description(description);
    }

    /** An on/off option. */
    static OptionSpec flag(String name, String description) {
        return OptionSpec.builder(name).type(boolean.class).description(description).build();
    }

    /** A positional parameter holding a file. */
    static PositionalParamSpec file(int index, String label, String... description) {
        return PositionalParamSpec.builder().index(Integer.toString(index)).arity("1").required(true).paramLabel(label).type(Path.class)
                .description(description).build();
    }

    /** The parsed value of an option (its default when not given; null when it has none). */
    @SuppressWarnings("unchecked")
    static <T> T value(CommandSpec spec, String option) {
        return (T) spec.findOption(option).getValue();
    }

    static boolean isSet(CommandSpec spec, String flag) {
        return Boolean.TRUE.equals(spec.findOption(flag).getValue());
    }

    /** The strings given to a repeated option, in order; empty when not given. */
    static List<String> values(CommandSpec spec, String option) {
        Collection<String> values = value(spec, option);
        return values == null ? new ArrayList<>() : new ArrayList<>(values);
    }

    static Set<String> valueSet(CommandSpec spec, String option) {
        return new LinkedHashSet<>(values(spec, option));
    }

    /** The value of a positional parameter. */
    static Path file(CommandSpec spec, int index) {
        return spec.positionalParameters().get(index).getValue();
    }
}
