package io.rechannel.torch;

import io.rechannel.core.RechannelException;
import io.rechannel.torch.PickleValues.Span;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a pickle with single values replaced, every other opcode copied as it was. A replaced value
 * must not be shared through the memo (its new value would reach the other users too); a removed
 * value's memo entries that are fetched later are written again, where they are first fetched.
 */
final class PickleRewriter {

    private final SafePickle pickle;
    private final String where;
    private final TreeMap<Integer, Replacement> replacements = new TreeMap<>();

    private record Replacement(Span span, byte[] bytes) {
    }

    PickleRewriter(SafePickle pickle, String where) {
        this.pickle = pickle;
        this.where = where;
    }

    /** Replaces the value written at {@code span} (of {@code what}) with {@code encoded}. */
    void replace(Span span, byte[] encoded, String what) {
        for (Map.Entry<Long, Span> put : pickle.memoPuts.entrySet()) {
            int at = put.getValue().start();
            boolean inside = at >= span.start() && at < span.end();
            boolean right = at == span.end();
            if ((inside || right) && pickle.memoGets.containsKey(put.getKey())) {
                throw RechannelException.unsupported(where + ": " + what + " is shared with another value of the pickle"
                        + " (memo " + put.getKey() + "); rechannel changes only values written once");
            }
        }
        add(new Replacement(span, encoded));
    }

    /**
     * Replaces a dict written at {@code span} with an empty dict (keeping its own memo entry). Memo
     * entries stored inside it and fetched later are written again at their first later fetch.
     */
    void empty(Span span, String what) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('}');
        Long own = null;
        for (Map.Entry<Long, Span> put : pickle.memoPuts.entrySet()) {
            if (put.getValue().start() == span.start() + 1) {
                own = put.getKey();
                out.write(pickle.bytes(), put.getValue().start(), put.getValue().end() - put.getValue().start());
            }
        }
        if (pickle.bytes()[span.start()] != '}') {
            throw new IllegalStateException(what + " is not a dict");
        }
        add(new Replacement(span, out.toByteArray()));
        for (Map.Entry<Long, Span> put : pickle.memoPuts.entrySet()) {
            int at = put.getValue().start();
            if (at <= span.start() || at >= span.end() || put.getKey().equals(own)) {
                continue;
            }
            Span firstLater = pickle.memoGets.getOrDefault(put.getKey(), List.of()).stream()
                    .filter(g -> g.start() >= span.end()).findFirst().orElse(null);
            if (firstLater == null) {
                continue;
            }
            Span value = pickle.memoValues.get(put.getKey());
            if (!pickle.isSimpleMemo(put.getKey())) {
                throw RechannelException.unsupported(where + ": " + what + " shares an object (memo " + put.getKey()
                        + ") with the rest of the pickle; it cannot be removed");
            }
            ByteArrayOutputStream again = new ByteArrayOutputStream();
            again.write(pickle.bytes(), value.start(), value.end() - value.start());
            again.write(pickle.bytes(), at, put.getValue().end() - at);
            add(new Replacement(firstLater, again.toByteArray()));
        }
    }

    private void add(Replacement replacement) {
        Map.Entry<Integer, Replacement> before = replacements.floorEntry(replacement.span().start());
        Map.Entry<Integer, Replacement> after = replacements.ceilingEntry(replacement.span().start());
        if ((before != null && before.getValue().span().end() > replacement.span().start())
                || (after != null && after.getKey() < replacement.span().end())) {
            throw new IllegalStateException("overlapping pickle replacements at byte " + replacement.span().start());
        }
        replacements.put(replacement.span().start(), replacement);
    }

    byte[] rewrite() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(pickle.bytes().length + 256);
        int position = 0;
        for (Replacement r : replacements.values()) {
            out.write(pickle.bytes(), position, r.span().start() - position);
            out.writeBytes(r.bytes());
            position = r.span().end();
        }
        out.write(pickle.bytes(), position, pickle.bytes().length - position);
        return out.toByteArray();
    }

    /** An integer as pickle protocol 2 writes it. */
    static byte[] integer(long v) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        if (v >= 0 && v < 0x100) {
            b.put((byte) 'K').put((byte) v);
        } else if (v >= 0 && v < 0x10000) {
            b.put((byte) 'M').putShort((short) v);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            b.put((byte) 'J').putInt((int) v);
        } else {
            byte[] big = BigInteger.valueOf(v).toByteArray();
            b.put((byte) 0x8a).put((byte) big.length);
            for (int i = big.length - 1; i >= 0; i--) {
                b.put(big[i]);
            }
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** A tuple of integers as pickle protocol 2 writes it (TUPLE1-3 for short ones). */
    static byte[] tuple(long[] values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (values.length == 0) {
            out.write(')');
            return out.toByteArray();
        }
        if (values.length > 3) {
            out.write('(');
        }
        for (long v : values) {
            out.writeBytes(integer(v));
        }
        out.write(values.length > 3 ? 't' : 0x84 + values.length);
        return out.toByteArray();
    }
}
