package io.rechannel.torch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes a safetensors file as {@code source} with some tensors replaced: the header is rewritten with
 * the new shapes and every tensor's new byte range (keys, {@code __metadata__} and tensor order as they
 * were; padded with spaces to a multiple of 8 bytes, as the safetensors library pads), the replaced
 * tensors' bytes are written, and every run of unchanged tensors is copied by the kernel.
 */
final class SafetensorsWriter {

    private SafetensorsWriter() {
    }

    static void write(SafetensorsFile source, Map<String, TensorEdit> edits, Path target) throws IOException {
        ObjectNode header = source.header().deepCopy();
        long position = 0;
        for (SafetensorsFile.Entry entry : source.entries()) {
            TensorEdit edit = edits.get(entry.tensor().name());
            long length = edit == null ? entry.end() - entry.begin() : edit.data().length;
            ObjectNode info = (ObjectNode) header.get(entry.tensor().name());
            if (edit != null) {
                ArrayNode shape = info.putArray("shape");
                Arrays.stream(edit.shape()).forEach(shape::add);
            }
            ArrayNode offsets = info.putArray("data_offsets");
            offsets.add(position).add(position + length);
            position += length;
        }
        byte[] json = json(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        try (FileChannel in = FileChannel.open(source.path(), StandardOpenOption.READ);
             // written from the start and cut where it ends: truncating a file first makes ext4 write it all back at close
             FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE);
             Progress progress = Progress.of("writing " + target.getFileName(), in.size())) {
            writeFully(out, head.flip());
            long runStart = -1;
            long runEnd = -1;
            for (SafetensorsFile.Entry entry : source.entries()) {
                TensorEdit edit = edits.get(entry.tensor().name());
                if (edit == null) {
                    if (runStart < 0) {
                        runStart = entry.begin();
                    }
                    runEnd = entry.end();
                    continue;
                }
                if (runStart >= 0) {
                    copy(in, source.dataStart() + runStart, runEnd - runStart, out, progress);
                    runStart = -1;
                }
                writeFully(out, ByteBuffer.wrap(edit.data()));
            }
            if (runStart >= 0) {
                copy(in, source.dataStart() + runStart, runEnd - runStart, out, progress);
            }
            out.truncate(out.position());
        }
    }

    private static void copy(FileChannel in, long from, long count, FileChannel out, Progress progress) throws IOException {
        long at = out.position();
        ByteRanges.copy(in, from, count, out, at, progress);
        out.position(at + count);
    }

    static void writeFully(FileChannel out, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    static byte[] json(Object value) {
        try {
            return SafetensorsFile.JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
