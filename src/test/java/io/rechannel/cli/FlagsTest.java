package io.rechannel.cli;

import io.rechannel.core.OptionName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The command line names every library option by one of its own flags. */
class FlagsTest {

    @TestFactory
    Stream<DynamicTest> everyOptionIsAFlagOfExtend() {
        PrintWriter sink = new PrintWriter(new StringWriter());
        CommandLine.Model.CommandSpec extend = Main.commandLine(sink, sink).getSubcommands().get("extend").getCommandSpec();
        return Arrays.stream(OptionName.values()).map(option -> DynamicTest.dynamicTest(option.optionName(),
                () -> assertNotNull(extend.findOption(Flags.of(option)), Flags.of(option) + " is no option of extend")));
    }

    @Test
    void libraryMessagesAreRenderedWithFlags() {
        assertEquals("out.h5: exists (--force not given)", Flags.render("out.h5: exists (option 'overwrite' not given)"));
        assertEquals("m.h5: --layer applies only to weights files; --drop-optimizer removes the optimizer state",
                Flags.render("m.h5: option 'layer' applies only to weights files; option 'dropOptimizer' removes the"
                        + " optimizer state"));
        assertEquals("a message without options", Flags.render("a message without options"));
    }
}
