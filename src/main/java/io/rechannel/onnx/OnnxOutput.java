package io.rechannel.onnx;

import io.rechannel.format.AtomicOutput;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a copy of an ONNX model with edits applied, atomically: the model file and, when the model keeps
 * initializers in external data, its own data file beside it ({@code OUT.data}, or {@code OUT.k.data} for
 * several), every location rewritten. Changed tensors are stored inline.
 */
final class OnnxOutput {

    private OnnxOutput() {
    }

    /** Writes {@code output}; returns what was done, one line each. */
    static List<String> write(OnnxFile file, OnnxEdits edits, Path output, boolean overwrite) {
        List<String> changes = new ArrayList<>();
        Map<String, Path> locations = new LinkedHashMap<>();
        for (OnnxFile.TensorInfo info : file.initializers().values()) {
            if (info.isExternal() && !edits.initializers.containsKey(info.name())) {
                // the confined real path, checked when the file was read
                locations.put(info.external().get("location"), file.externalPath(info));
            }
        }
        List<AtomicOutput> dataFiles = new ArrayList<>();
        List<Path> parts = OnnxFormat.parts(file);
        try (AtomicOutput out = AtomicOutput.create(parts, output, overwrite)) {
            int k = 0;
            for (Map.Entry<String, Path> entry : locations.entrySet()) {
                String location = entry.getKey();
                Path data = entry.getValue();
                String name = output.getFileName() + (locations.size() == 1 ? ".data" : "." + (k++) + ".data");
                AtomicOutput copy = AtomicOutput.create(parts, output.toAbsolutePath().resolveSibling(name), overwrite);
                dataFiles.add(copy);
                copy.copyFrom(data);
                edits.locations.put(location, name);
                changes.add("external data " + location + " -> " + name);
            }
            OnnxWriter.write(file, edits, out.path());
            for (AtomicOutput data : dataFiles) {
                data.commit();
            }
            out.commit();
        } finally {
            dataFiles.forEach(AtomicOutput::close);
        }
        return changes;
    }
}
