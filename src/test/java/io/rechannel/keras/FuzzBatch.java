package io.rechannel.keras;

import io.rechannel.TestSupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

/**
 * The child side of the fuzz tests, run in a {@link ForkedJvm}: for each model path given, runs
 * {@code inspect}, {@code extend} (into the model's folder) and, when that succeeded, {@code verify}
 * in-process, and reports each on standard output:
 * <pre>
 * START i
 * RUN i command exitCode base64(stderr)
 * TMP i names...      (files left in the temporary folder, which is then emptied)
 * DONE i
 * </pre>
 * A native crash ends the process after a START without its DONE, which names the input at fault.
 */
public final class FuzzBatch {

    private FuzzBatch() {
    }

    public static void main(String[] args) throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i++) {
            Path model = Path.of(args[i]);
            String extension = model.getFileName().toString().substring(model.getFileName().toString().indexOf('.'));
            Path output = model.resolveSibling("out" + extension);
            say("START " + i);
            run(i, "inspect", model.toString());
            // --from BGR: the models fuzzed are 3-channel, tiny_vgg caffe-style (extend stops on it without --from)
            int extended = run(i, "extend", model.toString(), "--from", "BGR", "--to", "RGBY", "--init", "Y=B",
                    "-o", output.toString());
            if (extended == 0) {
                run(i, "verify", model.toString(), output.toString(), "--from", "BGR", "--to", "RGBY", "--init", "Y=B");
            }
            List<String> left;
            try (Stream<Path> files = Files.list(tmp)) {
                left = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("hs_err")).toList();
            }
            if (!left.isEmpty()) {
                say("TMP " + i + " " + String.join(" ", left));
                for (String name : left) {
                    Files.deleteIfExists(tmp.resolve(name));
                }
            }
            say("DONE " + i);
        }
    }

    private static int run(int index, String command, String... rest) {
        String[] args = new String[rest.length + 1];
        args[0] = command;
        System.arraycopy(rest, 0, args, 1, rest.length);
        TestSupport.Run run = TestSupport.cli(args);
        say("RUN " + index + " " + command + " " + run.exitCode() + " "
                + Base64.getEncoder().encodeToString(run.err().getBytes(StandardCharsets.UTF_8)));
        return run.exitCode();
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
