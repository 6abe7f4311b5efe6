package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.TestSupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Real Keras (keras-ref: Keras 3.16.0 on its numpy backend) in one Python process that answers JSON requests
 * line by line (src/test/resources/keras_judge.py), so that Keras is imported once for many models.
 */
final class KerasJudge implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_S = 300;

    private final Process process;
    private final Writer requests;
    private final BufferedReader replies;
    private final StringBuffer errors = new StringBuffer();

    private KerasJudge(Process process) {
        this.process = process;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread drain = new Thread(() -> {
            try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line = err.readLine(); line != null; line = err.readLine()) {
                    errors.append(line).append('\n');
                    if (errors.length() > 20_000) {
                        errors.delete(0, errors.length() - 10_000);
                    }
                }
            } catch (IOException ignored) {
                // the process is gone; what it said is kept
            }
        }, "keras-judge-stderr");
        drain.setDaemon(true);
        drain.start();
    }

    /** keras-ref's folder: -Drechannel.keras-ref, by default ../shared/keras-ref. */
    static Path kerasRef() {
        return Path.of(System.getProperty("rechannel.keras-ref", "../shared/keras-ref")).toAbsolutePath().normalize();
    }

    /** Starts the judge; without keras-ref or Debian's Python packages it fails under CI and skips elsewhere. */
    static KerasJudge start() throws Exception {
        Path ref = kerasRef();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")),
                "keras-ref (real Keras, the judge of Keras outputs) is not at " + ref + " (set -Drechannel.keras-ref=DIR)");
        TestSupport.require(TestSupport.run(List.of("/usr/bin/python3", "-c", "import numpy, h5py, scipy, absl, rich, packaging"))
                .exitCode() == 0, "keras-ref needs Debian's python3-numpy python3-h5py python3-scipy python3-absl python3-rich "
                + "python3-packaging");
        Process process = new ProcessBuilder("/usr/bin/python3", TestSupport.resource("keras_judge.py").toString(), ref.toString())
                .start();
        KerasJudge judge = new KerasJudge(process);
        JsonNode ready = judge.reply("start");
        if (!ready.path("ready").asText().equals("3.16.0")) {
            judge.close();
            throw new AssertionError("keras-ref did not start Keras 3.16.0: " + ready);
        }
        return judge;
    }

    static ObjectNode request(String op) {
        return JSON.createObjectNode().put("op", op);
    }

    /** Sends one request; the reply, or a failure quoting what the process said where it died or hung. */
    synchronized JsonNode ask(ObjectNode request) {
        try {
            requests.write(JSON.writeValueAsString(request) + "\n");
            requests.flush();
        } catch (IOException e) {
            throw new AssertionError("the Keras judge is gone: " + errors, e);
        }
        return reply(request.path("op").asText());
    }

    private JsonNode reply(String what) {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return replies.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            String text = line.get(TIMEOUT_S, TimeUnit.SECONDS);
            if (text == null) {
                throw new AssertionError("the Keras judge ended during '" + what + "': " + errors);
            }
            return JSON.readTree(text);
        } catch (TimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("the Keras judge took over " + TIMEOUT_S + " s for '" + what + "': " + errors, e);
        } catch (ExecutionException | InterruptedException | IOException e) {
            throw new AssertionError("no reply from the Keras judge for '" + what + "': " + errors, e);
        }
    }

    @Override
    public void close() {
        try {
            requests.close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
    }
}
