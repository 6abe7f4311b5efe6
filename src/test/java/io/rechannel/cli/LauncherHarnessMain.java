package io.rechannel.cli;

import io.rechannel.format.AtomicOutput;
import io.rechannel.format.RunRecord;

import java.nio.file.Path;

/**
 * The main class of the test checkout that {@link LauncherTest} runs through {@code bin/rechannel}:
 * {@code crash MODEL OUT} stages OUT from MODEL as extend does and then crashes the JVM in native code
 * (a write to address 0), as the HDF5 library does on some damaged files; {@code stage MODEL OUT} stages
 * it, says so on stdout and waits to be killed; anything else runs rechannel.
 */
public final class LauncherHarnessMain {

    private LauncherHarnessMain() {
    }

    public static void main(String[] args) throws Exception {
        if (!args[0].equals("crash") && !args[0].equals("stage")) {
            Main.main(args);
            return;
        }
        Path model = Path.of(args[1]);
        RunRecord.reading(model);
        try (AtomicOutput out = AtomicOutput.create(model, Path.of(args[2]), false)) {
            out.copyFrom(model);
            if (args[0].equals("stage")) {
                System.out.println("staged " + out.path().getParent().getFileName());
                Thread.sleep(120_000);
            }
            var field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            ((sun.misc.Unsafe) field.get(null)).putAddress(0, 0);
        }
    }
}
