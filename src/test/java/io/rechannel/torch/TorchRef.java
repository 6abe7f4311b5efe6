package io.rechannel.torch;

import io.rechannel.TestSupport;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@code torch_ref.py} with Debian's PyTorch (python3-torch): it makes the test models and
 * checkpoints and checks rechannel's outputs. Skipped where PyTorch is missing, except under CI, whose
 * script installs it.
 */
final class TorchRef {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static Boolean available;

    private TorchRef() {
    }

    /** Runs a command of torch_ref.py; returns what follows its 'ok'. */
    static String run(String command, Object... args) throws Exception {
        requireTorch();
        List<String> line = new ArrayList<>(List.of(PYTHON.toString(), script().toString(), command));
        for (Object a : args) {
            line.add(a.toString());
        }
        TestSupport.Run run = TestSupport.run(line);
        assertEquals(0, run.exitCode(), "torch_ref.py " + command + " failed: " + run.err() + run.out());
        String out = run.out().trim();
        assertTrue(out.startsWith("ok"), out);
        return out.substring(2).trim();
    }

    /**
     * Runs several commands in one Python process (importing torch takes seconds); returns each one's
     * result, or 'error: ...'.
     */
    static List<String> batch(List<List<Object>> commands) throws Exception {
        Object[] args = new Object[commands.size()];
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < args.length; i++) {
            args[i] = json.writeValueAsString(commands.get(i).stream().map(Object::toString).toList());
        }
        return json.readValue(run("batch", args), new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { });
    }

    private static synchronized void requireTorch() throws Exception {
        if (available == null) {
            available = Files.isExecutable(PYTHON)
                    && TestSupport.run(List.of(PYTHON.toString(), "-c", "import torch")).exitCode() == 0;
        }
        TestSupport.require(available, "Debian python3-torch (the reference for PyTorch checkpoints)");
    }

    private static Path script() throws URISyntaxException {
        return Path.of(TorchRef.class.getResource("torch_ref.py").toURI());
    }
}
