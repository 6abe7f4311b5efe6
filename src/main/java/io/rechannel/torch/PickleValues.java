package io.rechannel.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the safe pickle reader builds: plain data (None, bools, integers as {@code Long} or
 * {@code BigInteger}, floats as {@code Double}, {@code String}, {@link Bytes}, lists as
 * {@code ArrayList}) and the few torch objects a state dict holds, described, never instantiated.
 */
final class PickleValues {

    private PickleValues() {
    }

    /** A byte range [start, end) of the pickle: where a value was written. */
    record Span(int start, int end) {
    }

    /** A tuple, with where each element was written (to rewrite a tensor's sizes). */
    record Tuple(List<Object> items, List<Span> spans) {
        Tuple {
            items = java.util.Collections.unmodifiableList(new ArrayList<>(items));
            spans = List.copyOf(spans);
        }
    }

    /** Python bytes. */
    record Bytes(byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(b.value, value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }
    }

    /** A module-level name the pickle refers to, e.g. {@code collections.OrderedDict}; never looked up. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A dict or OrderedDict, keeping where each value was written and attributes set by BUILD. */
    static final class Dict {
        final boolean ordered;
        final Map<Object, Object> entries = new LinkedHashMap<>();
        final Map<Object, Span> valueSpans = new LinkedHashMap<>();
        final Map<Object, Object> attributes = new LinkedHashMap<>();

        Dict(boolean ordered) {
            this.ordered = ordered;
        }
    }

    /**
     * A storage named by the persistent id {@code ('storage', torch.FloatStorage, key, location, numel)};
     * its bytes are the zip entry {@code data/key}.
     */
    record Storage(Dtype dtype, String key, String location, long numel, Span keySpan, Span numelSpan) {
    }

    /**
     * A tensor rebuilt by {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)}:
     * with the spans of the arguments a rewrite replaces.
     */
    static final class Tensor {
        final Storage storage;
        final long offset;
        final long[] size;
        final long[] stride;
        final Span offsetSpan;
        final Span sizeSpan;
        final Span strideSpan;

        Tensor(Storage storage, long offset, long[] size, long[] stride, Span offsetSpan, Span sizeSpan, Span strideSpan) {
            this.storage = storage;
            this.offset = offset;
            this.size = size;
            this.stride = stride;
            this.offsetSpan = offsetSpan;
            this.sizeSpan = sizeSpan;
            this.strideSpan = strideSpan;
        }

        long elements() {
            long n = 1;
            for (long d : size) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** True when the tensor is the whole storage, row-major, from its start. */
        boolean ownsContiguousStorage() {
            return offset == 0 && elements() == storage.numel() && Arrays.equals(stride, contiguousStrides(size));
        }

        static long[] contiguousStrides(long[] size) {
            long[] stride = new long[size.length];
            long s = 1;
            for (int d = size.length - 1; d >= 0; d--) {
                stride[d] = s;
                s *= Math.max(1, size[d]);
            }
            return stride;
        }
    }
}
