package io.rechannel.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.TensorEdit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a sharded safetensors checkpoint: every shard beside the output index, named after it
 * ({@code model-00001-of-00002.safetensors} for {@code rgby.safetensors.index.json} becomes
 * {@code rgby-00001-of-00002.safetensors}); a shard without changes is a kernel copy. Every file is
 * written to a temporary file first and all are moved into place at the end, the index last.
 */
final class ShardedWriter {

    private final SafetensorsStore store;
    private final Map<String, TensorEdit> edits;

    ShardedWriter(SafetensorsStore store, Map<String, TensorEdit> edits) {
        this.store = store;
        this.edits = edits;
    }

    List<String> write(Path output, boolean overwrite) {
        String outName = output.getFileName().toString();
        if (!SafetensorsStore.isIndex(output)) {
            throw RechannelException.usage(output + ": a sharded checkpoint is written as an index; name the output"
                    + " like rgby.safetensors" + SafetensorsStore.INDEX_SUFFIX);
        }
        String inPrefix = prefix(store.file().getFileName().toString());
        String outPrefix = prefix(outName);
        Map<String, String> renamed = new LinkedHashMap<>();
        List<String> changes = new ArrayList<>();
        List<AtomicOutput> outputs = new ArrayList<>();
        try {
            long delta = 0;
            for (Map.Entry<String, SafetensorsFile> shard : store.shards().entrySet()) {
                String name = shard.getKey();
                String newName = name.startsWith(inPrefix) ? outPrefix + name.substring(inPrefix.length()) : outPrefix + "-" + name;
                renamed.put(name, newName);
                Path target = output.toAbsolutePath().resolveSibling(newName);
                AtomicOutput out = AtomicOutput.create(shard.getValue().path(), target, overwrite);
                outputs.add(out);
                Map<String, TensorEdit> own = new LinkedHashMap<>();
                for (SafetensorsFile.Entry entry : shard.getValue().entries()) {
                    TensorEdit edit = edits.get(entry.tensor().name());
                    if (edit != null) {
                        own.put(entry.tensor().name(), edit);
                        delta += Dtype.bytes(edit) - (entry.end() - entry.begin());
                    }
                }
                if (own.isEmpty()) {
                    out.copyFrom(shard.getValue().path());
                    changes.add("shard " + name + " copied to " + newName);
                } else {
                    SafetensorsWriter.write(shard.getValue(), own, out.path());
                    changes.add("shard " + name + " rewritten as " + newName + " (" + String.join(", ", own.keySet()) + ")");
                }
            }
            AtomicOutput indexOut = AtomicOutput.create(store.file(), output, overwrite);
            outputs.add(indexOut);
            Files.write(indexOut.path(), indexJson(renamed, delta));
            outputs.forEach(AtomicOutput::commit);
            return changes;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": cannot write: " + e.getMessage(), e);
        } finally {
            outputs.forEach(AtomicOutput::close);
        }
    }

    /** The index with shards renamed and the total size changed by {@code delta}; other keys as they were. */
    private byte[] indexJson(Map<String, String> renamed, long delta) throws IOException {
        ObjectNode index = store.index().deepCopy();
        ObjectNode weightMap = (ObjectNode) index.get("weight_map");
        List<String> names = new ArrayList<>();
        weightMap.fieldNames().forEachRemaining(names::add);
        for (String tensor : names) {
            weightMap.put(tensor, renamed.get(weightMap.get(tensor).asText()));
        }
        JsonNode metadata = index.get("metadata");
        if (metadata instanceof ObjectNode m && m.get("total_size") != null && m.get("total_size").canConvertToLong()) {
            m.put("total_size", m.get("total_size").asLong() + delta);
        }
        // Hugging Face writes the index indented by two spaces, with a final newline
        return (SafetensorsFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String prefix(String indexName) {
        String base = indexName.substring(0, indexName.length() - SafetensorsStore.INDEX_SUFFIX.length());
        return base.endsWith(".safetensors") ? base.substring(0, base.length() - ".safetensors".length()) : base;
    }
}
