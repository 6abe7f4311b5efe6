package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Help and version, as picocli prints them from the command model declared in code. */
class HelpTest {

    @ParameterizedTest
    @ValueSource(strings = {"inspect", "extend", "verify"})
    void theHelpCommandPrintsACommandsUsage(String command) {
        TestSupport.Run help = cli("help", command);
        TestSupport.Run option = cli(command, "--help");
        assertEquals(0, help.exitCode(), help.err());
        assertEquals(option.out(), help.out());
        assertTrue(help.out().startsWith("Usage: rechannel " + command + " [-hV] "), help.out());
        assertEquals("", help.err());
    }

    @Test
    void helpWithoutACommandIsTheMainUsage() {
        TestSupport.Run help = cli("help");
        assertEquals(0, help.exitCode());
        assertEquals(cli("--help").out(), help.out());
        assertTrue(help.out().startsWith("Usage: rechannel [-hV] [COMMAND]\n"), help.out());
        assertTrue(help.out().contains("\n  help      Display help information about the specified command.\n"), help.out());
    }

    @Test
    void helpForAnUnknownCommandIsAUsageError() {
        TestSupport.Run help = cli("help", "convert");
        assertEquals(2, help.exitCode());
        assertEquals("rechannel: Unknown subcommand 'convert'.; see 'rechannel --help'\n", help.err());
    }

    @Test
    void theHelpCommandHasItsOwnHelp() {
        TestSupport.Run help = cli("help", "--help");
        assertEquals(0, help.exitCode());
        assertEquals("""
                Display help information about the specified command.

                Usage: rechannel help [-h] [COMMAND]

                When no COMMAND is given, the usage help for the main command is displayed.
                If a COMMAND is specified, the help for that command is shown.

                      [COMMAND]   The COMMAND to display the usage help message for.
                  -h, --help      Show usage help for the help command and exit.
                """, help.out());
    }

    @Test
    void theSynopsisShowsWhatIsRequiredAndWhatRepeats() {
        String usage = cli("extend", "--help").out().replaceAll("\\s+", " ");
        for (String part : new String[] {" -o=OUT ", " --to=SPEC ", "[--seed=N]", "[--init=RULE]...",
            "[--channel-independent=LAYER[,LAYER...]]...", "[--stats=NAME=mean:M,std:S]...", " MODEL "}) {
            assertTrue(usage.contains(part), part + " in " + usage);
        }
        assertTrue(!usage.contains("[--to=SPEC]"), "--to is required for extend: " + usage);
        String verify = cli("verify", "--help").out().replaceAll("\\s+", " ");
        assertTrue(verify.contains(" ORIGINAL ADAPTED "), verify);
        assertTrue(verify.contains("[--to=SPEC]"), "verify recovers the map without --to: " + verify);
    }

    /** Every positional parameter of every command says what it is. */
    @ParameterizedTest
    @ValueSource(strings = {"inspect", "extend", "verify"})
    void everyPositionalIsDescribed(String command) {
        var spec = Main.commandLine(new java.io.PrintWriter(java.io.Writer.nullWriter()), new java.io.PrintWriter(java.io.Writer.nullWriter()))
                .getSubcommands().get(command).getCommandSpec();
        assertTrue(!spec.positionalParameters().isEmpty());
        String help = cli(command, "--help").out();
        for (var positional : spec.positionalParameters()) {
            String description = String.join(" ", positional.description());
            assertTrue(description.length() > 10, positional.paramLabel() + " has no description");
            assertTrue(help.lines().anyMatch(line -> line.matches("\\s+" + positional.paramLabel() + "\\s+\\S.*")),
                    positional.paramLabel() + " described in: " + help);
        }
    }

    @Test
    void versionIsPrinted() {
        TestSupport.Run version = cli("--version");
        assertEquals(0, version.exitCode());
        assertEquals("rechannel 0.1.0\n", version.out());
    }
}
