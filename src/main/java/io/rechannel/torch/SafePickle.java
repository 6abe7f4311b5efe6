package io.rechannel.torch;

import io.rechannel.core.RechannelException;
import io.rechannel.torch.PickleValues.Bytes;
import io.rechannel.torch.PickleValues.Dict;
import io.rechannel.torch.PickleValues.Global;
import io.rechannel.torch.PickleValues.Span;
import io.rechannel.torch.PickleValues.Storage;
import io.rechannel.torch.PickleValues.Tensor;
import io.rechannel.torch.PickleValues.Tuple;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a torch.save pickle without running it. Only what {@code torch.load(weights_only=True)} accepts
 * is read: the opcodes of pickle protocols 2 and 3, the globals of its allow list, and calls of the
 * tensor and parameter rebuild functions and OrderedDict, which are described ({@link PickleValues}),
 * not executed. Anything else stops the read naming the opcode or global. Where every value was written
 * is kept, and every memo store and fetch, so that {@link PickleRewriter} can replace single values.
 */
final class SafePickle {

    /** Globals that torch.load(weights_only=True) accepts; the ones rechannel interprets are handled below. */
    private static final Set<String> ALLOWED = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor",
            "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_qtensor", "torch.Size", "torch.Tensor",
            "torch.nn.parameter.Parameter", "torch.serialization._get_layout", "torch.device", "_codecs.encode");

    private static final Map<Integer, String> REFUSED_NAMES = Map.ofEntries(Map.entry((int) 'i', "INST"),
            Map.entry((int) 'o', "OBJ"), Map.entry(0x93, "STACK_GLOBAL"), Map.entry(0x95, "FRAME"),
            Map.entry(0x94, "MEMOIZE"), Map.entry(0x82, "EXT1"), Map.entry(0x83, "EXT2"), Map.entry(0x84, "EXT4"),
            Map.entry((int) 'P', "PERSID"), Map.entry((int) '0', "POP"), Map.entry((int) '1', "POP_MARK"),
            Map.entry((int) '2', "DUP"), Map.entry(0x92, "NEWOBJ_EX"), Map.entry(0x90, "ADDITEMS"),
            Map.entry(0x91, "FROZENSET"), Map.entry(0x8f, "EMPTY_SET"), Map.entry((int) 'I', "INT"),
            Map.entry((int) 'L', "LONG"), Map.entry((int) 'F', "FLOAT"), Map.entry((int) 'S', "STRING"),
            Map.entry((int) 'V', "UNICODE"), Map.entry((int) 'd', "DICT"), Map.entry((int) 'l', "LIST"),
            Map.entry((int) 'p', "PUT"), Map.entry((int) 'g', "GET"), Map.entry(0x97, "NEXT_BUFFER"),
            Map.entry(0x98, "READONLY_BUFFER"), Map.entry(0x8d, "BINUNICODE8"), Map.entry(0x8e, "BINBYTES8"),
            Map.entry(0x8c, "SHORT_BINUNICODE"), Map.entry(0x8b, "LONG4"));

    /** One value on the stack and where it was written. */
    private record Item(Object value, int start, int end) {
    }

    private static final Object MARK = new Object();

    private final byte[] bytes;
    private final String where;
    private final ByteBuffer in;
    private List<Item> stack = new ArrayList<>();
    private final Deque<List<Item>> marks = new ArrayDeque<>();
    private final Deque<Integer> markStarts = new ArrayDeque<>();
    private final Map<Long, Item> memo = new HashMap<>();
    private final Set<Long> simpleMemo = new java.util.HashSet<>();

    /** Every memo store: index → the value's span, and where the store op is. */
    final Map<Long, Span> memoValues = new HashMap<>();
    final Map<Long, Span> memoPuts = new HashMap<>();
    /** Every memo fetch: index → the fetch ops' spans. */
    final Map<Long, List<Span>> memoGets = new HashMap<>();
    /** Every tensor, in the order the pickle builds them. */
    final List<Tensor> tensors = new ArrayList<>();
    final int protocol;
    final Object root;

    private SafePickle(byte[] bytes, String where) {
        this.bytes = bytes;
        this.where = where;
        this.in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int[] proto = {2};
        this.root = run(proto);
        this.protocol = proto[0];
    }

    /** Reads a pickle; {@code where} names it in messages (the user's file and the entry). */
    static SafePickle read(byte[] bytes, String where) {
        return new SafePickle(bytes, where);
    }

    byte[] bytes() {
        return bytes;
    }

    private Object run(int[] proto) {
        try {
            while (true) {
                int at = in.position();
                int op = in.get() & 0xff;
                switch (op) {
                    case 0x80 -> {
                        proto[0] = in.get() & 0xff;
                        if (proto[0] > 3) {
                            throw unsupported("pickle protocol " + proto[0] + " (torch.save writes protocol 2;"
                                    + " rechannel reads protocols 2 and 3)");
                        }
                    }
                    case '.' -> {
                        if (stack.size() != 1 || !marks.isEmpty()) {
                            throw malformed("the pickle stops with " + stack.size() + " values on its stack");
                        }
                        if (in.hasRemaining()) {
                            throw malformed("bytes after the pickle's STOP");
                        }
                        return stack.get(0).value();
                    }
                    case '(' -> {
                        marks.push(stack);
                        markStarts.push(at);
                        stack = new ArrayList<>();
                    }
                    case 'c' -> {
                        Global global = new Global(line(), line());
                        if (!ALLOWED.contains(global.qualified()) && storageType(global) == null && !isDtype(global)) {
                            throw unsupported("pickle global '" + global.qualified() + "' at byte " + at + " is not one that"
                                    + " torch.load(weights_only=True) allows; rechannel never runs pickled code");
                        }
                        push(global, at);
                    }
                    case 'q' -> put(in.get() & 0xffL, at);
                    case 'r' -> put(in.getInt() & 0xffffffffL, at);
                    case 'h' -> get(in.get() & 0xffL, at);
                    case 'j' -> get(in.getInt() & 0xffffffffL, at);
                    case ')' -> push(new Tuple(List.of(), List.of()), at);
                    case 't' -> {
                        int start = markStarts.peek() == null ? at : markStarts.peek();
                        List<Item> items = popMark();
                        push(tuple(items), start);
                    }
                    case 0x85, 0x86, 0x87 -> {
                        int n = op - 0x84;
                        List<Item> items = popItems(n);
                        push(tuple(items), items.get(0).start());
                    }
                    case ']' -> push(new ArrayList<>(), at);
                    case '}' -> push(new Dict(false), at);
                    case 'a' -> {
                        Item item = pop();
                        list(top()).add(item.value());
                        extendTop();
                    }
                    case 'e' -> {
                        List<Item> items = popMark();
                        List<Object> list = list(top());
                        items.forEach(i -> list.add(i.value()));
                        extendTop();
                    }
                    case 's' -> {
                        Item value = pop();
                        Item key = pop();
                        setItem(dict(top()), key, value);
                        extendTop();
                    }
                    case 'u' -> {
                        List<Item> items = popMark();
                        if (items.size() % 2 != 0) {
                            throw malformed("SETITEMS with an odd number of values at byte " + at);
                        }
                        Dict dict = dict(top());
                        for (int i = 0; i < items.size(); i += 2) {
                            setItem(dict, items.get(i), items.get(i + 1));
                        }
                        extendTop();
                    }
                    case 'N' -> push(null, at);
                    case 0x88 -> push(Boolean.TRUE, at);
                    case 0x89 -> push(Boolean.FALSE, at);
                    case 'J' -> push((long) in.getInt(), at);
                    case 'K' -> push(in.get() & 0xffL, at);
                    case 'M' -> push(in.getShort() & 0xffffL, at);
                    case 0x8a -> push(long1(in.get() & 0xff), at);
                    case 'G' -> push(in.order(ByteOrder.BIG_ENDIAN).getDouble(), at);
                    case 'X' -> push(new String(take(in.getInt()), StandardCharsets.UTF_8), at);
                    case 'U' -> push(new String(take(in.get() & 0xff), StandardCharsets.ISO_8859_1), at);
                    case 'T' -> push(new String(take(in.getInt()), StandardCharsets.ISO_8859_1), at);
                    case 'C' -> push(new Bytes(take(in.get() & 0xff)), at);
                    case 'B' -> push(new Bytes(take(in.getInt())), at);
                    case 'Q' -> {
                        Item pid = pop();
                        push(storage(pid, at), pid.start());
                    }
                    case 'R' -> {
                        Item args = pop();
                        Item function = pop();
                        push(TorchCalls.call(function.value(), args.value(), this, at), function.start());
                    }
                    case 0x81 -> {
                        Item args = pop();
                        Item cls = pop();
                        push(TorchCalls.newObject(cls.value(), args.value(), this, at), cls.start());
                    }
                    case 'b' -> {
                        Item state = pop();
                        TorchCalls.build(top().value(), state.value(), this, at);
                        extendTop();
                    }
                    default -> throw unsupported("pickle opcode " + String.format("0x%02x", op)
                            + (REFUSED_NAMES.containsKey(op) ? " (" + REFUSED_NAMES.get(op) + ")" : "") + " at byte " + at
                            + " is not one that torch.load(weights_only=True) accepts");
                }
                in.order(ByteOrder.LITTLE_ENDIAN);
            }
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw malformed("the pickle ends early or is damaged");
        }
    }

    private void push(Object value, int start) {
        stack.add(new Item(value, start, in.position()));
    }

    private Item pop() {
        if (stack.isEmpty()) {
            throw malformed("the pickle takes a value from an empty stack at byte " + in.position());
        }
        return stack.remove(stack.size() - 1);
    }

    private Item top() {
        if (stack.isEmpty()) {
            throw malformed("the pickle reads an empty stack at byte " + in.position());
        }
        return stack.get(stack.size() - 1);
    }

    /** The container on top was just filled: its span now reaches the current position. */
    private void extendTop() {
        Item top = pop();
        stack.add(new Item(top.value(), top.start(), in.position()));
    }

    private List<Item> popItems(int n) {
        if (stack.size() < n) {
            throw malformed("the pickle takes " + n + " values from a stack of " + stack.size());
        }
        List<Item> items = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return items;
    }

    private List<Item> popMark() {
        if (marks.isEmpty()) {
            throw malformed("the pickle closes a MARK it never opened at byte " + in.position());
        }
        List<Item> items = stack;
        stack = marks.pop();
        markStarts.pop();
        return items;
    }

    private void put(long index, int at) {
        Item top = top();
        memo.put(index, top);
        memoValues.put(index, new Span(top.start(), top.end()));
        memoPuts.put(index, new Span(at, in.position()));
        Object v = top.value();
        if (v == null || v instanceof String || v instanceof Global || v instanceof Long || v instanceof Double
                || v instanceof Boolean || v instanceof BigInteger) {
            simpleMemo.add(index); // written by one opcode, so it can be written again elsewhere
        }
    }

    /** True when the memo entry's value was written by a single opcode (a string, a global, a number). */
    boolean isSimpleMemo(long index) {
        return simpleMemo.contains(index);
    }

    private void get(long index, int at) {
        Item item = memo.get(index);
        if (item == null) {
            throw malformed("the pickle fetches memo " + index + ", never stored, at byte " + at);
        }
        memoGets.computeIfAbsent(index, k -> new ArrayList<>()).add(new Span(at, in.position()));
        push(item.value(), at);
    }

    private static Tuple tuple(List<Item> items) {
        return new Tuple(items.stream().map(Item::value).toList(), items.stream().map(i -> new Span(i.start(), i.end())).toList());
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Item item) {
        if (!(item.value() instanceof ArrayList<?> list)) {
            throw unsupported("the pickle appends to " + describe(item.value()) + ", not a list");
        }
        return (List<Object>) list;
    }

    private Dict dict(Item item) {
        if (!(item.value() instanceof Dict dict)) {
            throw unsupported("the pickle sets items of " + describe(item.value()) + ", not a dict");
        }
        return dict;
    }

    private void setItem(Dict dict, Item key, Item value) {
        Object k = key.value();
        if (k instanceof ArrayList<?> || k instanceof Dict || k instanceof Tensor) {
            throw unsupported("the pickle uses " + describe(k) + " as a dict key");
        }
        dict.entries.put(k, value.value());
        dict.valueSpans.put(k, new Span(value.start(), value.end()));
    }

    private Storage storage(Item pid, int at) {
        if (!(pid.value() instanceof Tuple t) || t.items().size() != 5 || !"storage".equals(t.items().get(0))
                || !(t.items().get(1) instanceof Global type) || !(t.items().get(2) instanceof String key)
                || !(t.items().get(3) instanceof String location) || !(t.items().get(4) instanceof Long numel)) {
            throw unsupported("persistent id at byte " + at + " is " + describe(pid.value())
                    + ", not ('storage', type, key, location, size) as torch.save writes it");
        }
        Dtype dtype = storageType(type);
        if (dtype == null) {
            throw unsupported("storage type " + type.qualified() + " at byte " + at + " is not one rechannel reads");
        }
        return new Storage(dtype, key, location, numel, t.spans().get(2), t.spans().get(4));
    }

    static Dtype storageType(Global global) {
        return global.module().equals("torch") ? Dtype.ofStorage(global.name()) : null;
    }

    private static boolean isDtype(Global global) {
        return global.module().equals("torch") && global.name().matches("(float|int|uint|complex|bfloat)\\d+|bool");
    }

    private String line() {
        int start = in.position();
        while (bytes[in.position()] != '\n') {
            in.get();
        }
        String text = new String(bytes, start, in.position() - start, StandardCharsets.UTF_8);
        in.get();
        return text;
    }

    private byte[] take(int length) {
        if (length < 0 || length > in.remaining()) {
            throw malformed("a string of " + Integer.toUnsignedString(length) + " bytes runs past the end of the pickle");
        }
        byte[] b = new byte[length];
        in.get(b);
        return b;
    }

    private Object long1(int n) {
        byte[] b = take(n);
        if (n == 0) {
            return 0L;
        }
        byte[] big = new byte[n];
        for (int i = 0; i < n; i++) {
            big[i] = b[n - 1 - i];
        }
        BigInteger value = new BigInteger(big);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    static String describe(Object value) {
        if (value == null) {
            return "None";
        }
        if (value instanceof Global g) {
            return g.qualified();
        }
        if (value instanceof Dict) {
            return "a dict";
        }
        if (value instanceof Tensor) {
            return "a tensor";
        }
        return "a " + value.getClass().getSimpleName();
    }

    RechannelException unsupported(String reason) {
        return RechannelException.unsupported(where + ": " + reason);
    }

    RechannelException malformed(String reason) {
        return RechannelException.malformed(where + ": " + reason);
    }
}
