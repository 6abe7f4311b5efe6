package io.rechannel.torch;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming every
 * tensor's dtype, shape and byte range, then the tensors' bytes. The header is checked as the
 * safetensors library checks it: a sane length, JSON starting with '{', known dtypes, byte ranges that
 * tile the data section exactly (from 0, contiguous, no overlap, no gap, up to the end of the file),
 * and each range as long as its dtype and shape require. Only the header is read; tensors are read
 * one at a time on demand.
 */
final class SafetensorsFile {

    /** The safetensors library refuses larger headers. */
    static final long MAX_HEADER = 100_000_000;

    static final String METADATA = "__metadata__";

    static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** A tensor and its byte range in the data section. */
    record Entry(NamedTensor tensor, long begin, long end) {
    }

    private final Path path;
    private final ObjectNode header;
    private final long dataStart;
    private final List<Entry> entries;
    private final Map<String, Entry> byName = new LinkedHashMap<>();

    private SafetensorsFile(Path path, ObjectNode header, long dataStart, List<Entry> entries) {
        this.path = path;
        this.header = header;
        this.dataStart = dataStart;
        this.entries = entries;
        entries.forEach(e -> byName.put(e.tensor().name(), e));
    }

    static SafetensorsFile read(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw malformed(path, "too short for a header (" + size + " bytes)");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER) {
                throw malformed(path, "header length " + Long.toUnsignedString(headerLength)
                        + " is not between 2 and " + MAX_HEADER + " bytes");
            }
            if (8 + headerLength > size) {
                throw malformed(path, "header length " + headerLength + " runs past the end of the file (" + size + " bytes)");
            }
            ByteBuffer text = ByteBuffer.allocate((int) headerLength);
            readFully(channel, text, 8);
            ObjectNode header = parse(path, text.flip());
            List<Entry> entries = validate(path, header, size - 8 - headerLength);
            return new SafetensorsFile(path, header, 8 + headerLength, entries);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static ObjectNode parse(Path path, ByteBuffer bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw malformed(path, "header is not UTF-8 text");
        }
        if (!text.startsWith("{")) {
            throw malformed(path, "header does not start with '{' (not a safetensors file)");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw malformed(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode object)) {
            throw malformed(path, "header is not a JSON object");
        }
        return object;
    }

    private static List<Entry> validate(Path path, ObjectNode header, long dataLength) {
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode info = field.getValue();
            if (name.equals(METADATA)) {
                checkMetadata(path, info);
                continue;
            }
            entries.add(entry(path, name, info));
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long position = 0;
        for (Entry e : entries) {
            if (e.begin() != position) {
                throw malformed(path, "tensor '" + e.tensor().name() + "' starts at byte " + e.begin() + " of the data, expected "
                        + position + (e.begin() < position ? " (it overlaps the tensor before it)" : " (a gap before it)"));
            }
            position = e.end();
        }
        if (position != dataLength) {
            throw malformed(path, "the tensors cover " + position + " bytes of data but the file holds " + dataLength);
        }
        return entries;
    }

    private static Entry entry(Path path, String name, JsonNode info) {
        String where = "tensor '" + name + "'";
        if (!info.isObject()) {
            throw malformed(path, where + " is not described by a JSON object");
        }
        JsonNode dtypeNode = info.get("dtype");
        Dtype dtype = dtypeNode != null && dtypeNode.isTextual() ? Dtype.ofSafetensors(dtypeNode.asText()) : null;
        if (dtype == null) {
            throw malformed(path, where + " has an unknown dtype " + dtypeNode);
        }
        long[] shape = longs(path, where + " shape", info.get("shape"), -1);
        long[] offsets = longs(path, where + " data_offsets", info.get("data_offsets"), 2);
        if (offsets[1] < offsets[0]) {
            throw malformed(path, where + " data_offsets " + offsets[0] + ".." + offsets[1] + " end before they begin");
        }
        NamedTensor tensor = NamedTensor.of(name, dtype.name(), shape, TensorRole.OTHER);
        long bytes;
        try {
            bytes = Math.multiplyExact(Shapes.count(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw malformed(path, where + " shape " + info.get("shape") + " overflows");
        }
        if (bytes != offsets[1] - offsets[0]) {
            throw malformed(path, where + " is " + dtype + " " + info.get("shape") + " (" + bytes + " bytes) but its data_offsets span "
                    + (offsets[1] - offsets[0]) + " bytes");
        }
        return new Entry(tensor, offsets[0], offsets[1]);
    }

    private static long[] longs(Path path, String what, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw malformed(path, what + " is not " + (length >= 0 ? "a list of " + length + " integers" : "a list of integers"));
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
                throw malformed(path, what + " holds " + v + ", not a non-negative integer");
            }
            values[i] = v.asLong();
        }
        return values;
    }

    private static void checkMetadata(Path path, JsonNode metadata) {
        if (!metadata.isObject()) {
            throw malformed(path, METADATA + " is not a JSON object");
        }
        metadata.fields().forEachRemaining(f -> {
            if (!f.getValue().isTextual()) {
                throw malformed(path, METADATA + " value '" + f.getKey() + "' is not a string");
            }
        });
    }

    Path path() {
        return path;
    }

    /** The header as read, keys in the file's order. */
    ObjectNode header() {
        return header;
    }

    long dataStart() {
        return dataStart;
    }

    /** Tensors in data order. */
    List<Entry> entries() {
        return entries;
    }

    Entry entry(String name) {
        return byName.get(name);
    }

    /** {@code __metadata__} as read (empty when the file has none). */
    Map<String, String> metadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode node = header.get(METADATA);
        if (node != null) {
            node.fields().forEachRemaining(f -> metadata.put(f.getKey(), f.getValue().asText()));
        }
        return metadata;
    }

    /** One tensor's bytes. */
    ByteBuffer bytes(Entry entry) {
        long length = entry.end() - entry.begin();
        if (length > Integer.MAX_VALUE - 16) {
            throw RechannelException.unsupported(path + ": tensor '" + entry.tensor().name() + "' is over 2 GiB; rechannel"
                    + " reads only input layers, which are small");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) length);
            readFully(channel, buffer, dataStart + entry.begin());
            return buffer.flip();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": cannot read tensor '" + entry.tensor().name()
                    + "': " + e.getMessage(), e);
        }
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("the file ends early");
            }
            at += n;
        }
    }

    static RechannelException malformed(Path path, String reason) {
        return RechannelException.malformed(path + ": safetensors header: " + reason);
    }
}
