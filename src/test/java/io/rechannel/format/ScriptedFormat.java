package io.rechannel.format;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A model format for tests of the output handling, registered for files named {@code *.scripted}: the
 * file is a properties text saying what to do. {@code part=NAME} makes the file beside the model part of
 * it; {@code sibling=NAME} makes extend write a second output file beside the output (as ONNX writes its
 * external data); {@code verify=pass|fail|throw} decides what verify finds. Extend copies the file.
 */
public final class ScriptedFormat implements ModelFormat {

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public boolean accepts(Path file) {
        return file.getFileName().toString().endsWith(".scripted");
    }

    @Override
    public List<Path> parts(Path file) {
        List<Path> parts = new ArrayList<>(List.of(file));
        String part = script(file).getProperty("part");
        if (part != null) {
            parts.add(file.toAbsolutePath().resolveSibling(part));
        }
        return parts;
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        return new Inspection(file.toString(), name(), Map.of(), List.of(), List.of(), List.of(), 0, List.of());
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        String sibling = script(input).getProperty("sibling");
        try (AtomicOutput out = AtomicOutput.create(parts(input), output, overwrite)) {
            out.copyFrom(input);
            if (sibling != null) {
                Files.writeString(out.path().resolveSibling(sibling), "data of " + output.getFileName());
            }
            out.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new AdaptResult(input.toString(), output.toString(), "RGB", "RGBY", List.of("Y=B"), List.of(), List.of(), null);
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        Properties script = script(original);
        String sibling = script.getProperty("sibling");
        if (sibling != null && !Files.isRegularFile(adapted.resolveSibling(sibling))) {
            throw RechannelException.malformed(adapted + ": its " + sibling + " is not beside it");
        }
        return switch (script.getProperty("verify", "pass")) {
            case "throw" -> throw RechannelException.malformed(adapted + ": cannot be read back");
            case "fail" -> result(original, adapted, false);
            default -> result(original, adapted, true);
        };
    }

    private static VerifyResult result(Path original, Path adapted, boolean passed) {
        return new VerifyResult(original.toString(), adapted.toString(), "RGB", "RGBY", List.of("Y=B"),
                List.of(new VerifyResult.LayerCheck("conv", "kernel", passed ? 0 : 0.5, passed ? 0 : 0.25, passed)), 3,
                List.of());
    }

    private static Properties script(Path file) {
        Properties script = new Properties();
        try (var in = Files.newBufferedReader(file)) {
            script.load(in);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, file + ": " + e.getMessage(), e);
        }
        return script;
    }
}
