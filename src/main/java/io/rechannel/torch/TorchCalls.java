package io.rechannel.torch;

import io.rechannel.torch.PickleValues.Bytes;
import io.rechannel.torch.PickleValues.Dict;
import io.rechannel.torch.PickleValues.Global;
import io.rechannel.torch.PickleValues.Span;
import io.rechannel.torch.PickleValues.Storage;
import io.rechannel.torch.PickleValues.Tensor;
import io.rechannel.torch.PickleValues.Tuple;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The calls a torch.save pickle makes (REDUCE, NEWOBJ, BUILD), described instead of executed: tensor
 * and parameter rebuilds become {@link Tensor}s, OrderedDict an ordered {@link Dict}, torch.Size a tuple,
 * {@code _codecs.encode} (how protocol 2 writes bytes) {@link Bytes}. Other calls, even of globals that
 * torch accepts, are refused by name.
 */
final class TorchCalls {

    private TorchCalls() {
    }

    static Object call(Object function, Object args, SafePickle pickle, int at) {
        if (!(function instanceof Global g)) {
            throw pickle.unsupported("the pickle calls " + SafePickle.describe(function) + " at byte " + at);
        }
        if (!(args instanceof Tuple t)) {
            throw pickle.unsupported("the pickle calls " + g.qualified() + " with " + SafePickle.describe(args)
                    + " at byte " + at);
        }
        List<Object> a = t.items();
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw pickle.unsupported("OrderedDict built from arguments at byte " + at);
                }
                return new Dict(true);
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                return tensor(t, pickle, at);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.isEmpty() || !(a.get(0) instanceof Tensor tensor)) {
                    throw pickle.unsupported(g.qualified() + " at byte " + at + " does not rebuild a stored tensor");
                }
                return tensor;
            }
            case "torch.Size" -> {
                if (a.size() != 1 || !(a.get(0) instanceof Tuple size)) {
                    throw pickle.unsupported("torch.Size at byte " + at + " is not given one tuple");
                }
                return size;
            }
            case "_codecs.encode" -> {
                if (a.size() != 2 || !(a.get(0) instanceof String text) || !(a.get(1) instanceof String encoding)
                        || !encoding.equals("latin1")) {
                    throw pickle.unsupported("_codecs.encode at byte " + at + " is not (text, 'latin1')");
                }
                return new Bytes(text.getBytes(StandardCharsets.ISO_8859_1));
            }
            case "torch.device" -> {
                return t; // kept as its arguments: nothing in a state dict depends on it
            }
            default -> throw pickle.unsupported("the pickle calls " + g.qualified() + " at byte " + at
                    + "; rechannel reads dense tensors only (no sparse, quantized or meta tensors)");
        }
    }

    static Object newObject(Object cls, Object args, SafePickle pickle, int at) {
        if (cls instanceof Global g && g.qualified().equals("torch.nn.parameter.Parameter") && args instanceof Tuple t
                && !t.items().isEmpty() && t.items().get(0) instanceof Tensor tensor) {
            return tensor;
        }
        throw pickle.unsupported("the pickle instantiates " + SafePickle.describe(cls) + " at byte " + at);
    }

    static void build(Object instance, Object state, SafePickle pickle, int at) {
        if (instance instanceof Dict dict && dict.ordered && state instanceof Dict attributes) {
            dict.attributes.putAll(attributes.entries);
            return;
        }
        if (instance instanceof Tensor && state instanceof Tuple) {
            return; // a parameter's own state (_rebuild_parameter_with_state): nothing stored
        }
        throw pickle.unsupported("the pickle sets the state of " + SafePickle.describe(instance) + " at byte " + at
                + "; torch.load(weights_only=True) sets only an OrderedDict's");
    }

    private static Tensor tensor(Tuple args, SafePickle pickle, int at) {
        List<Object> a = args.items();
        if (a.size() < 4 || !(a.get(0) instanceof Storage storage) || !(a.get(1) instanceof Long offset)
                || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride)
                || size.items().size() != stride.items().size()) {
            throw pickle.unsupported("tensor rebuilt at byte " + at + " from " + a.size() + " arguments that are not"
                    + " (storage, offset, size, stride, ...)");
        }
        long[] sizes = longs(size, pickle, at);
        long[] strides = longs(stride, pickle, at);
        long last = offset;
        for (int d = 0; d < sizes.length; d++) {
            if (sizes[d] < 0 || strides[d] < 0) {
                throw pickle.malformed("tensor at byte " + at + " has a negative size or stride");
            }
            last += sizes[d] == 0 ? 0 : (sizes[d] - 1) * strides[d];
        }
        boolean empty = java.util.Arrays.stream(sizes).anyMatch(s -> s == 0);
        if (offset < 0 || (!empty && last >= storage.numel())) {
            throw pickle.malformed("tensor at byte " + at + " reaches element " + last + " of a storage of "
                    + storage.numel());
        }
        Span sizeSpan = args.spans().get(2);
        Span strideSpan = args.spans().get(3);
        Tensor tensor = new Tensor(storage, offset, sizes, strides, args.spans().get(1), sizeSpan, strideSpan);
        pickle.tensors.add(tensor);
        return tensor;
    }

    private static long[] longs(Tuple tuple, SafePickle pickle, int at) {
        long[] values = new long[tuple.items().size()];
        for (int i = 0; i < values.length; i++) {
            if (!(tuple.items().get(i) instanceof Long v)) {
                throw pickle.unsupported("tensor at byte " + at + " has a size or stride that is not an integer");
            }
            values[i] = v;
        }
        return values;
    }
}
