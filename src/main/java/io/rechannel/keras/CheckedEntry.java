package io.rechannel.keras;

import io.rechannel.core.RechannelException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32;

/**
 * The content of a zip entry as it is read, checked against what the archive records: never more bytes
 * than its recorded size (nor than a limit, checked while inflating, so that a zip bomb stops early),
 * and at its end exactly that size and that CRC-32. Damage is never passed on as data.
 */
final class CheckedEntry extends FilterInputStream {

    private final ZipArchiveEntry entry;
    private final String label;
    private final long limit;
    private final CRC32 crc = new CRC32();
    private long count;
    private boolean checked;

    CheckedEntry(InputStream in, ZipArchiveEntry entry, String label, long limit) {
        super(in);
        this.entry = entry;
        this.label = label;
        this.limit = limit;
        if (entry.getSize() > limit) {
            throw RechannelException.unsupported(label + ": inflates to " + entry.getSize() + " bytes, over rechannel's limit"
                    + " of " + (limit >> 20) + " MiB for this entry");
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = in.read(buffer, offset, length);
        if (n < 0) {
            finish();
            return n;
        }
        crc.update(buffer, offset, n);
        count += n;
        if (count > limit) {
            throw RechannelException.unsupported(label + ": inflates to more than rechannel's limit of " + (limit >> 20)
                    + " MiB for this entry");
        }
        if (entry.getSize() >= 0 && count > entry.getSize()) {
            throw RechannelException.malformed(label + ": holds more than the " + entry.getSize()
                    + " bytes the archive records (damaged archive)");
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(8192, Math.max(1, n))];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void finish() {
        if (checked) {
            return;
        }
        checked = true;
        if (entry.getSize() >= 0 && count != entry.getSize()) {
            throw RechannelException.malformed(label + ": holds " + count + " bytes where the archive records "
                    + entry.getSize() + " (truncated or damaged archive)");
        }
        check(crc.getValue(), entry, label);
    }

    private static void check(long actual, ZipArchiveEntry entry, String label) {
        if (entry.getCrc() >= 0 && actual != entry.getCrc()) {
            throw RechannelException.malformed(label + ": fails its CRC-32 check (recorded "
                    + String.format("%08x", entry.getCrc()) + ", content gives " + String.format("%08x", actual)
                    + "; damaged archive)");
        }
    }

    /** Checks the CRC-32 of an entry's content copied to {@code channel} at {@code start}. */
    static void checkCrc(FileChannel channel, long start, ZipArchiveEntry entry, String label) throws IOException {
        check(crc(channel, start, entry.getSize()), entry, label);
    }

    /** CRC-32 of a file region, read through one small direct buffer (mapping would count the file in RSS). */
    static long crc(FileChannel channel, long start, long size) throws IOException {
        CRC32 crc = new CRC32();
        // a small buffer stays in the CPU cache from the read to the checksum: measured 2.5 times faster than 4 MiB
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10);
        long done = 0;
        while (done < size) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), size - done));
            int n = channel.read(buffer, start + done);
            if (n <= 0) {
                throw new IOException("file ends " + (size - done) + " bytes early");
            }
            buffer.flip();
            crc.update(buffer);
            done += n;
        }
        return crc.getValue();
    }
}
