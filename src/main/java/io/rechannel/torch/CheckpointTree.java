package io.rechannel.torch;

import io.rechannel.torch.PickleValues.Dict;
import io.rechannel.torch.PickleValues.Span;
import io.rechannel.torch.PickleValues.Tensor;
import io.rechannel.torch.PickleValues.Tuple;

import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The tensors of a torch.save pickle, named by where they are: a state dict's keys, or a path through a
 * nested checkpoint ({@code state_dict/conv1.weight}, {@code optimizer/state/0/exp_avg}). A dict with
 * {@code state} and {@code param_groups} is optimizer state: its tensors are slots of the parameter whose
 * index keys them.
 */
final class CheckpointTree {

    /** An optimizer's state dict: where it is and where its {@code state} value was written. */
    record Optimizer(String path, Span stateSpan) {
    }

    private final Object root;
    private final Map<NamedTensor, Tensor> tensors = new LinkedHashMap<>();
    private final Map<Tensor, String> names = new IdentityHashMap<>();
    private final List<Optimizer> optimizers = new ArrayList<>();

    CheckpointTree(Object root) {
        this.root = root;
        walk(root, "", null);
    }

    List<NamedTensor> tensors() {
        return List.copyOf(tensors.keySet());
    }

    Tensor tensor(NamedTensor stored) {
        Tensor t = tensors.get(stored);
        if (t == null) {
            throw new IllegalArgumentException("not a tensor of this checkpoint: " + stored);
        }
        return t;
    }

    List<Optimizer> optimizers() {
        return optimizers;
    }

    /** The other tensors using the same storage as {@code t}. */
    List<String> sharingStorage(Tensor t) {
        List<String> others = new ArrayList<>();
        names.forEach((other, name) -> {
            if (other != t && other.storage.key().equals(t.storage.key())) {
                others.add(name);
            }
        });
        return others;
    }

    private void walk(Object value, String path, String optimizerParam) {
        if (value instanceof Tensor t) {
            if (!names.containsKey(t)) {
                names.put(t, path);
                tensors.put(new NamedTensor(path, t.storage.dtype().name(), t.size, TensorRole.OTHER, optimizerParam), t);
            }
        } else if (value instanceof Dict dict) {
            if (isOptimizer(dict)) {
                optimizers.add(new Optimizer(path, dict.valueSpans.get("state")));
                Dict state = (Dict) dict.entries.get("state");
                state.entries.forEach((param, slots) -> walk(slots, join(join(path, "state"), param), join(join(path, "state"), param)));
                dict.entries.forEach((k, v) -> {
                    if (!"state".equals(k)) {
                        walk(v, join(path, k), optimizerParam);
                    }
                });
            } else {
                dict.entries.forEach((k, v) -> walk(v, join(path, k), optimizerParam));
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), join(path, i), optimizerParam);
            }
        } else if (value instanceof Tuple tuple) {
            for (int i = 0; i < tuple.items().size(); i++) {
                walk(tuple.items().get(i), join(path, i), optimizerParam);
            }
        }
    }

    private static boolean isOptimizer(Dict dict) {
        return dict.entries.get("state") instanceof Dict && dict.entries.get("param_groups") instanceof List<?>
                && dict.valueSpans.get("state") != null;
    }

    private static String join(String path, Object key) {
        return path.isEmpty() ? String.valueOf(key) : path + "/" + key;
    }

    /** A one-line outline: a state dict's size, or a nested checkpoint's keys and what each holds. */
    String structure() {
        if (root instanceof Dict dict && dict.entries.values().stream().allMatch(v -> v instanceof Tensor)) {
            return (dict.ordered ? "OrderedDict" : "dict") + " of " + dict.entries.size() + " tensors (a state dict)";
        }
        return outline(root, 0);
    }

    private String outline(Object value, int depth) {
        if (value instanceof Tensor t) {
            return "tensor " + t.storage.dtype() + " " + java.util.Arrays.toString(t.size);
        }
        if (value instanceof Dict dict) {
            long count = count(dict);
            if (isOptimizer(dict)) {
                return "optimizer state (" + ((Dict) dict.entries.get("state")).entries.size() + " parameters with state, "
                        + ((List<?>) dict.entries.get("param_groups")).size() + " param groups)";
            }
            if (depth >= 2 || dict.entries.size() > 12) {
                return "dict of " + dict.entries.size() + " entries, " + count + " tensors";
            }
            StringJoiner joiner = new StringJoiner(", ", "{", "}");
            dict.entries.forEach((k, v) -> joiner.add(k + ": " + outline(v, depth + 1)));
            return joiner.toString();
        }
        if (value instanceof List<?> list) {
            if (depth >= 2 || list.size() > 4) {
                return "list of " + list.size();
            }
            StringJoiner joiner = new StringJoiner(", ", "[", "]");
            list.forEach(v -> joiner.add(outline(v, depth + 1)));
            return joiner.toString();
        }
        if (value instanceof String s) {
            return "'" + (s.length() > 20 ? s.substring(0, 20) + "…" : s) + "'";
        }
        return String.valueOf(value instanceof Tuple t ? t.items() : value);
    }

    private long count(Object value) {
        if (value instanceof Tensor) {
            return 1;
        }
        if (value instanceof Dict dict) {
            return dict.entries.values().stream().mapToLong(this::count).sum();
        }
        if (value instanceof List<?> list) {
            return list.stream().mapToLong(this::count).sum();
        }
        return 0;
    }
}
