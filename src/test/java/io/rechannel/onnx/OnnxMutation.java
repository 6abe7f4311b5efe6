package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One change to the bytes of an ONNX file, as a fuzzer makes them: positions are taken modulo the
 * current length, so any generated value applies to any file.
 */
sealed interface OnnxMutation {

    /** Where a mutation may point a model's external data: names resolved against a fuzzing folder. */
    record Traps(Path canary, String linkName) {
    }

    byte[] apply(byte[] bytes, Traps traps);

    /** XORs one byte. */
    record Flip(int at, int mask) implements OnnxMutation {
        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            if (bytes.length == 0) {
                return bytes;
            }
            byte[] out = bytes.clone();
            out[Math.floorMod(at, bytes.length)] ^= (byte) mask;
            return out;
        }
    }

    /** Cuts the file short. */
    record Truncate(int at) implements OnnxMutation {
        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            return bytes.length == 0 ? bytes : Arrays.copyOf(bytes, Math.floorMod(at, bytes.length));
        }
    }

    /** Inserts bytes. */
    record Insert(int at, byte[] inserted) implements OnnxMutation {
        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            int p = Math.floorMod(at, bytes.length + 1);
            byte[] out = new byte[bytes.length + inserted.length];
            System.arraycopy(bytes, 0, out, 0, p);
            System.arraycopy(inserted, 0, out, p, inserted.length);
            System.arraycopy(bytes, p, out, p + inserted.length, bytes.length - p);
            return out;
        }

        @Override
        public String toString() {
            return "Insert[at=" + at + ", bytes=" + Arrays.toString(inserted) + "]";
        }
    }

    /** Removes bytes. */
    record Delete(int at, int count) implements OnnxMutation {
        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            if (bytes.length == 0) {
                return bytes;
            }
            int p = Math.floorMod(at, bytes.length);
            int n = Math.min(count, bytes.length - p);
            byte[] out = new byte[bytes.length - n];
            System.arraycopy(bytes, 0, out, 0, p);
            System.arraycopy(bytes, p + n, out, p, bytes.length - p - n);
            return out;
        }
    }

    /**
     * Rewrites the length prefix of one length-delimited field (of any message nested in the file) to
     * another value: a little more or less, zero, or far more than the file holds.
     */
    record Length(int which, long value, boolean relative) implements OnnxMutation {
        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            List<int[]> prefixes = new ArrayList<>();
            lengthPrefixes(bytes, 0, bytes.length, 0, prefixes);
            if (prefixes.isEmpty()) {
                return bytes;
            }
            int[] prefix = prefixes.get(Math.floorMod(which, prefixes.size()));
            long old;
            try {
                old = CodedInputStream.newInstance(bytes, prefix[0], prefix[1]).readRawVarint64();
            } catch (IOException e) {
                return bytes;
            }
            long updated = relative ? old + value : value;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(bytes, 0, prefix[0]);
            try {
                CodedOutputStream coded = CodedOutputStream.newInstance(out);
                coded.writeUInt64NoTag(updated);
                coded.flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            out.write(bytes, prefix[0] + prefix[1], bytes.length - prefix[0] - prefix[1]);
            return out.toByteArray();
        }
    }

    /**
     * Points one initializer's external data somewhere a model may not reach: up and out of its folder,
     * an absolute path, a link out of the folder, the folder itself, nowhere.
     */
    record Relocate(int which, String target) implements OnnxMutation {
        static final List<String> TARGETS = List.of("../canary.bin", "ABSOLUTE", "LINK", ".", "", "missing.bin",
                "/dev/zero", "sub/../../canary.bin");

        @Override
        public byte[] apply(byte[] bytes, Traps traps) {
            OnnxMl.ModelProto.Builder model;
            try {
                model = OnnxMl.ModelProto.parseFrom(bytes).toBuilder();
            } catch (InvalidProtocolBufferException e) {
                return bytes;
            }
            List<OnnxMl.TensorProto.Builder> external = model.getGraphBuilder().getInitializerBuilderList().stream()
                    .filter(t -> t.getExternalDataCount() > 0).toList();
            if (external.isEmpty()) {
                return bytes;
            }
            OnnxMl.TensorProto.Builder tensor = external.get(Math.floorMod(which, external.size()));
            String location = switch (target) {
                case "ABSOLUTE" -> traps.canary().toString();
                case "LINK" -> traps.linkName();
                default -> target;
            };
            for (OnnxMl.StringStringEntryProto.Builder entry : tensor.getExternalDataBuilderList()) {
                if (entry.getKey().equals("location")) {
                    entry.setValue(location);
                }
            }
            return model.build().toByteArray();
        }
    }

    /**
     * Records where the length prefixes of length-delimited fields lie ({offset, size}), descending into
     * every payload that parses as a message to its end (strings and raw bytes usually do not).
     */
    static void lengthPrefixes(byte[] bytes, int from, int to, int depth, List<int[]> found) {
        List<int[]> here = new ArrayList<>();
        List<int[]> payloads = new ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(bytes, from, to - from);
        try {
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    if (!in.skipField(tag)) {
                        return;
                    }
                    continue;
                }
                int at = from + in.getTotalBytesRead();
                int length = in.readRawVarint32();
                int payload = from + in.getTotalBytesRead();
                here.add(new int[] {at, payload - at});
                payloads.add(new int[] {payload, payload + length});
                in.skipRawBytes(length);
            }
        } catch (IOException e) {
            return; // not a message: its bytes are data
        }
        found.addAll(here);
        if (depth < 8) {
            for (int[] p : payloads) {
                if (p[1] > p[0]) {
                    lengthPrefixes(bytes, p[0], p[1], depth + 1, found);
                }
            }
        }
    }
}
