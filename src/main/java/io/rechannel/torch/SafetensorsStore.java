package io.rechannel.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A state dict in safetensors: one file, or a sharded checkpoint as Hugging Face writes it (an index
 * {@code model.safetensors.index.json} whose {@code weight_map} names the shard of every tensor). When
 * written, only the shards holding a changed tensor are rewritten; the others are copied by the kernel,
 * every shard is named after the output index, and the index's {@code weight_map} and
 * {@code metadata.total_size} follow.
 */
final class SafetensorsStore implements TensorStore {

    static final String INDEX_SUFFIX = ".index.json";

    private final Path file;
    private final ObjectNode index;
    private final Map<String, SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
    private final List<NamedTensor> tensors;

    private SafetensorsStore(Path file, ObjectNode index, Map<String, SafetensorsFile> shards) {
        this.file = file;
        this.index = index;
        this.shards = shards;
        List<NamedTensor> listed = new ArrayList<>();
        for (SafetensorsFile shard : shards.values()) {
            for (SafetensorsFile.Entry entry : shard.entries()) {
                listed.add(entry.tensor());
                shardOf.put(entry.tensor().name(), shard);
            }
        }
        this.tensors = StateDictRoles.assign(listed);
    }

    static boolean isIndex(Path file) {
        return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(INDEX_SUFFIX);
    }

    static SafetensorsStore open(Path file) {
        if (!isIndex(file)) {
            return new SafetensorsStore(file, null, Map.of(file.getFileName().toString(), SafetensorsFile.read(file)));
        }
        ObjectNode index = readIndex(file);
        JsonNode weightMap = index.get("weight_map");
        Map<String, String> declared = new LinkedHashMap<>();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        weightMap.fields().forEachRemaining(f -> {
            String shardName = f.getValue().asText();
            if (!f.getValue().isTextual() || shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\")
                    || shardName.equals("..") || shardName.equals(".")) {
                throw RechannelException.malformed(file + ": weight_map names '" + f.getValue().asText()
                        + "' for tensor '" + f.getKey() + "', not a file beside the index");
            }
            declared.put(f.getKey(), shardName);
            if (!shards.containsKey(shardName)) {
                Path shard = file.toAbsolutePath().resolveSibling(shardName);
                if (!Files.isRegularFile(shard)) {
                    throw new RechannelException(RechannelException.Kind.IO, file + ": shard " + shardName
                            + " (holding '" + f.getKey() + "') is missing");
                }
                shards.put(shardName, SafetensorsFile.read(shard));
            }
        });
        SafetensorsStore store = new SafetensorsStore(file, index, shards);
        for (Map.Entry<String, String> e : declared.entrySet()) {
            SafetensorsFile shard = shards.get(e.getValue());
            if (shard.entry(e.getKey()) == null) {
                throw RechannelException.malformed(file + ": weight_map puts '" + e.getKey() + "' in " + e.getValue()
                        + ", which does not hold it");
            }
        }
        Map<String, String> seen = new LinkedHashMap<>();
        for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
            for (SafetensorsFile.Entry entry : s.getValue().entries()) {
                String name = entry.tensor().name();
                String other = seen.put(name, s.getKey());
                if (other != null) {
                    throw RechannelException.malformed(file + ": tensor '" + name + "' is in both " + other + " and " + s.getKey());
                }
                if (!s.getKey().equals(declared.get(name))) {
                    throw RechannelException.malformed(file + ": shard " + s.getKey() + " holds '" + name
                            + "', which weight_map does not list there");
                }
            }
        }
        return store;
    }

    private static ObjectNode readIndex(Path file) {
        JsonNode node;
        try {
            node = SafetensorsFile.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw RechannelException.malformed(file + ": not a safetensors index (JSON): " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(node instanceof ObjectNode object) || !(node.get("weight_map") instanceof ObjectNode)) {
            throw RechannelException.malformed(file + ": not a safetensors index: no \"weight_map\" object");
        }
        return object;
    }

    boolean isSharded() {
        return index != null;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public List<NamedTensor> tensors() {
        return tensors;
    }

    @Override
    public double[] read(NamedTensor tensor) {
        SafetensorsFile shard = shardOf.get(tensor.name());
        SafetensorsFile.Entry entry = shard.entry(tensor.name());
        return Dtype.of(tensor).decode(shard.bytes(entry), Math.toIntExact(tensor.elements()));
    }

    @Override
    public Optional<RawRange> raw(NamedTensor tensor) {
        SafetensorsFile shard = shardOf.get(tensor.name());
        SafetensorsFile.Entry entry = shard.entry(tensor.name());
        return Optional.of(new RawRange(shard.path(), shard.dataStart() + entry.begin(), entry.end() - entry.begin()));
    }

    @Override
    public Optional<ModelInput> input() {
        return io.rechannel.pipeline.GraphlessModel.input(this);
    }

    /** Every shard's {@code __metadata__}, merged in shard order. */
    @Override
    public Map<String, String> metadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        shards.values().forEach(shard -> metadata.putAll(shard.metadata()));
        return metadata;
    }

    @Override
    public Map<String, String> details() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("layout", isSharded() ? "sharded safetensors (" + shards.size() + " shards)" : "safetensors");
        for (SafetensorsFile shard : shards.values()) {
            shard.metadata().forEach((k, v) -> details.put("metadata " + k, v));
            if (isSharded()) {
                details.put("shard " + shard.path().getFileName(), shard.entries().size() + " tensors, "
                        + shard.entries().stream().mapToLong(e -> e.end() - e.begin()).sum() + " bytes");
            }
        }
        return details;
    }

    @Override
    public List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite) {
        Map<String, TensorEdit> byName = new LinkedHashMap<>();
        edits.forEach(e -> byName.put(e.tensor().name(), e));
        if (!isSharded()) {
            try (AtomicOutput out = AtomicOutput.create(file, output, overwrite)) {
                SafetensorsWriter.write(shards.values().iterator().next(), byName, out.path());
                out.commit();
            } catch (IOException e) {
                throw new RechannelException(RechannelException.Kind.IO, output + ": cannot write: " + e.getMessage(), e);
            }
            return List.of();
        }
        return new ShardedWriter(this, byName).write(output, overwrite);
    }

    ObjectNode index() {
        return index;
    }

    Map<String, SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public void close() {
        // nothing is held open between reads
    }
}
