package io.rechannel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mistakes on the command line: one line naming the mistake and where help is (exit 2), never the whole usage. */
class CommandLineErrorsTest {

    private static final String MODEL = "examples/tiny_vgg.h5";

    private static TestSupport.Run run(String args) {
        return cli(args.split(" "));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "extend " + MODEL + " --to RGBY -o x.h5 --bogus | Unknown option: '--bogus'; see 'rechannel extend --help'",
        "extend " + MODEL + " --to RGBY | Missing required option: '--output=OUT'; see 'rechannel extend --help'",
        "extend " + MODEL + " -o x.h5 | Missing required option: '--to=SPEC'; see 'rechannel extend --help'",
        "extend " + MODEL + " | Missing required options: '--output=OUT', '--to=SPEC'; see 'rechannel extend --help'",
        "verify " + MODEL + " | Missing required parameter: 'ADAPTED'; see 'rechannel verify --help'",
        "inspect | Missing required parameter: 'MODEL'; see 'rechannel inspect --help'",
        "extend " + MODEL + " --to RGBY -o x.h5 --seed 99999999999999999999 | Invalid value for option '--seed':"
                + " '99999999999999999999' is not a long; see 'rechannel extend --help'",
        "convert " + MODEL + " | Unmatched arguments from index 0: 'convert', '" + MODEL + "' (did you mean verify or transfer?); see 'rechannel --help'",
        "| a command is needed: inspect, extend, verify or transfer; see 'rechannel --help'",
    })
    void aParsingErrorIsOneLine(String args, String message) {
        TestSupport.Run run = args == null ? cli() : run(args);
        assertEquals(2, run.exitCode());
        assertEquals("rechannel: " + message + "\n", run.err());
        assertEquals("", run.out());
    }

    @Test
    void aMisspelledOptionGetsASuggestion() {
        TestSupport.Run run = run("extend " + MODEL + " --too RGBY -o x.h5");
        assertEquals(2, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("(did you mean --to?)"), run.err());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "extend --json " + MODEL + " --to RGBY -o x.h5 --bogus | Unknown option: '--bogus'; see 'rechannel extend --help'",
        "extend " + MODEL + " --to RGBY --json | Missing required option: '--output=OUT'; see 'rechannel extend --help'",
        "extend " + MODEL + " --json -o x.h5 | Missing required option: '--to=SPEC'; see 'rechannel extend --help'",
        "inspect --json --bogus " + MODEL + " | Unknown option: '--bogus'; see 'rechannel inspect --help'",
    })
    void withJsonAnywhereAParsingErrorIsOneJsonLine(String args, String message) throws Exception {
        TestSupport.Run run = run(args);
        assertEquals(2, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        JsonNode error = new ObjectMapper().readTree(run.err());
        assertEquals(message, error.get("error").asText());
        assertEquals("usage", error.get("kind").asText());
        assertEquals(2, error.get("exitCode").asInt());
        assertEquals(3, error.size(), run.err());
    }

    @ParameterizedTest
    @CsvSource({"2147483648", "99999999999999999999999", "4097", "0", "00000000000000000000004097"})
    void aChannelCountOutOfRangeIsAUsageError(String count) {
        TestSupport.Run run = run("extend " + MODEL + " --to " + count + " -o x.h5");
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("rechannel: channel count must be between 1 and 4096, got " + count + "\n", run.err());
    }

    @Test
    void helpIsStillTheFullUsage() {
        TestSupport.Run run = run("extend --help");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().startsWith("Usage: rechannel extend"), run.out());
        assertTrue(run.out().lines().count() > 20, run.out());
        TestSupport.Run top = run("--help");
        assertTrue(Arrays.stream(top.out().split("\n")).anyMatch(line -> line.contains("4   malformed or damaged model file")),
                top.out());
    }
}
