package io.rechannel.keras;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Byte-level damage to a file, generated with jqwik: flipped bits, truncations, inserted bytes and
 * boundary values (0, -1, the largest signed numbers) written over 1, 2, 4 or 8 bytes. Offsets favour
 * the given "hot" positions (a format's metadata, where damage reaches the parsers) four to one.
 */
final class Mutations {

    private Mutations() {
    }

    /** One change to a file's content. */
    interface Mutation {
        byte[] apply(byte[] bytes);
    }

    record Flip(int at, int mask) implements Mutation {
        public byte[] apply(byte[] bytes) {
            byte[] out = bytes.clone();
            if (out.length > 0) {
                out[Math.floorMod(at, out.length)] ^= (byte) mask;
            }
            return out;
        }
    }

    record Truncate(int keep) implements Mutation {
        public byte[] apply(byte[] bytes) {
            return Arrays.copyOf(bytes, bytes.length == 0 ? 0 : Math.floorMod(keep, bytes.length));
        }
    }

    record Insert(int at, byte[] inserted) implements Mutation {
        public byte[] apply(byte[] bytes) {
            int where = bytes.length == 0 ? 0 : Math.floorMod(at, bytes.length + 1);
            byte[] out = new byte[bytes.length + inserted.length];
            System.arraycopy(bytes, 0, out, 0, where);
            System.arraycopy(inserted, 0, out, where, inserted.length);
            System.arraycopy(bytes, where, out, where + inserted.length, bytes.length - where);
            return out;
        }

        @Override
        public String toString() {
            return "Insert[at=" + at + ", bytes=" + HexFormat.of().formatHex(inserted) + "]";
        }
    }

    /** Writes {@code value} little-endian over {@code width} bytes. */
    record Overwrite(int at, int width, long value) implements Mutation {
        public byte[] apply(byte[] bytes) {
            byte[] out = bytes.clone();
            for (int i = 0; i < width && out.length > 0; i++) {
                out[Math.floorMod(at + i, out.length)] = (byte) (value >>> (8 * i));
            }
            return out;
        }
    }

    /** Offsets in {@code [0, length)}, mostly among {@code hot}. */
    static Arbitrary<Integer> offsets(int length, int[] hot) {
        // uniform: jqwik's default favours small numbers, which would put most damage in the first bytes
        Arbitrary<Integer> anywhere = Arbitraries.integers().between(0, Math.max(0, length - 1))
                .withDistribution(RandomDistribution.uniform());
        if (hot.length == 0) {
            return anywhere;
        }
        Arbitrary<Integer> hotOnes = Arbitraries.integers().between(0, hot.length - 1)
                .withDistribution(RandomDistribution.uniform()).map(i -> hot[i]);
        return Arbitraries.frequencyOf(Tuple.of(4, hotOnes), Tuple.of(1, anywhere));
    }

    static Arbitrary<Mutation> mutation(int length, int[] hot) {
        Arbitrary<Integer> at = offsets(length, hot);
        Arbitrary<Mutation> flip = at.flatMap(a -> Arbitraries.integers().between(1, 255).map(m -> new Flip(a, m)));
        Arbitrary<Mutation> truncate = Arbitraries.integers().between(0, Math.max(0, length - 1))
                .withDistribution(RandomDistribution.uniform()).map(Truncate::new);
        Arbitrary<Mutation> insert = at.flatMap(a -> Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16)
                .map(b -> new Insert(a, b)));
        Arbitrary<Long> values = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0L, -1L, 1L, 0x7FL, 0x80L, 0xFFL, 0x7FFFL, 0xFFFFL, 0x7FFFFFFFL, 0xFFFFFFFFL,
                        Long.MAX_VALUE, Long.MIN_VALUE)),
                Tuple.of(1, Arbitraries.longs()));
        Arbitrary<Mutation> overwrite = at.flatMap(a -> Arbitraries.of(1, 2, 4, 8)
                .flatMap(w -> values.map(v -> new Overwrite(a, w, v))));
        return Arbitraries.frequencyOf(Tuple.of(6, flip), Tuple.of(1, truncate), Tuple.of(1, insert), Tuple.of(3, overwrite));
    }

    /** One to three mutations, applied in order. */
    static Arbitrary<List<Mutation>> sequences(int length, int[] hot) {
        return mutation(length, hot).list().ofMinSize(1).ofMaxSize(3);
    }

    static byte[] apply(List<? extends Mutation> mutations, byte[] bytes) {
        byte[] out = bytes;
        for (Mutation m : mutations) {
            out = m.apply(out);
        }
        return out;
    }

    /** Every offset in {@code [0, length)} outside the given ranges (pairs of start, length). */
    static int[] outside(int length, List<long[]> ranges) {
        boolean[] covered = new boolean[length];
        for (long[] r : ranges) {
            for (long i = Math.max(0, r[0]); i < Math.min(length, r[0] + r[1]); i++) {
                covered[(int) i] = true;
            }
        }
        return IntStream.range(0, length).filter(i -> !covered[i]).toArray();
    }
}
