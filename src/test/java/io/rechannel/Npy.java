package io.rechannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy .npy files (format 1.0/2.0, little-endian float32 or float64, C order): what the fixtures hold. */
public record Npy(long[] shape, double[] values) {

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<|>]?)([fi])(\\d)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public static Npy read(Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        buffer.get(magic);
        if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IOException(file + ": not a .npy file");
        }
        int major = buffer.get();
        buffer.get();
        int headerLength = major == 1 ? Short.toUnsignedInt(buffer.getShort()) : buffer.getInt();
        byte[] header = new byte[headerLength];
        buffer.get(header);
        String text = new String(header, StandardCharsets.US_ASCII);
        if (text.contains("'fortran_order': True")) {
            throw new IOException(file + ": Fortran order is not supported");
        }
        Matcher descr = DESCR.matcher(text);
        Matcher shapeText = SHAPE.matcher(text);
        if (!descr.find() || !shapeText.find() || descr.group(1).equals(">")) {
            throw new IOException(file + ": unsupported header " + text.trim());
        }
        String[] parts = shapeText.group(1).split(",");
        long[] shape = java.util.Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        double[] values = new double[(int) count];
        String kind = descr.group(2) + descr.group(3);
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (kind) {
                case "f4" -> buffer.getFloat();
                case "f8" -> buffer.getDouble();
                case "i8" -> buffer.getLong();
                case "i4" -> buffer.getInt();
                default -> throw new IOException(file + ": unsupported dtype " + kind);
            };
        }
        return new Npy(shape, values);
    }

    /** Writes float32 data, the inverse of {@link #read} (used to test it). */
    public static void writeFloat32(Path file, long[] shape, double[] values) throws IOException {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? shape[0] + "," : dims.toString().replaceAll(", $", "");
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteBuffer buffer = ByteBuffer.allocate(10 + header.length() + values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (double v : values) {
            buffer.putFloat((float) v);
        }
        Files.write(file, buffer.array());
    }
}
