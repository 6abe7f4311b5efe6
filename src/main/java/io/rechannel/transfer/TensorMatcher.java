package io.rechannel.transfer;

import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pairs each target tensor with the pretrained tensor that holds its weights. By name: names are
 * normalised across frameworks (separators to dots, {@code :0} dropped, Keras {@code kernel}/{@code gamma}/
 * {@code beta}/{@code moving_mean}/{@code moving_variance} read as PyTorch's {@code weight}/{@code weight}/
 * {@code bias}/{@code running_mean}/{@code running_var}); equal names pair, then names where one is the
 * other with a prefix ({@code module.conv1.weight} and {@code conv1.weight}) when that pairing is unique.
 * By order: among tensors of one kind (kernels, dense weights, biases, each batch-norm statistic), the
 * n-th target tensor pairs with the n-th pretrained one of the same rank (other tensors: of the same shape).
 */
final class TensorMatcher {

    /** A pretrained tensor paired with a target tensor, and how. */
    record Match(NamedTensor source, NamedTensor target, String by) {
    }

    private static final Map<String, String> LEAVES = Map.of("kernel", "weight", "gamma", "weight", "beta", "bias",
            "moving_mean", "running_mean", "moving_variance", "running_var", "depthwise_kernel", "weight");

    private TensorMatcher() {
    }

    /** The pairs, by target tensor; targets without a pair are absent. */
    static Map<NamedTensor, Match> match(List<NamedTensor> pretrained, List<NamedTensor> target, TransferRequest.Matching mode) {
        Map<NamedTensor, Match> matches = new LinkedHashMap<>();
        Set<NamedTensor> used = new HashSet<>();
        if (mode != TransferRequest.Matching.ORDER) {
            byName(pretrained, target, matches, used);
        }
        if (mode != TransferRequest.Matching.NAME) {
            byOrder(pretrained, target, matches, used);
        }
        return matches;
    }

    /** A name as frameworks share it: {@code block1_conv1/kernel:0} and {@code block1_conv1.weight} are equal. */
    static String normalise(String name) {
        String[] parts = name.replaceAll(":\\d+(?=/|$)", "").split("[/.]");
        String leaf = parts[parts.length - 1];
        parts[parts.length - 1] = LEAVES.getOrDefault(leaf, leaf);
        return String.join(".", parts);
    }

    private static void byName(List<NamedTensor> pretrained, List<NamedTensor> target, Map<NamedTensor, Match> matches,
                               Set<NamedTensor> used) {
        Map<String, List<NamedTensor>> sources = new LinkedHashMap<>();
        pretrained.forEach(p -> sources.computeIfAbsent(normalise(p.name()), k -> new ArrayList<>()).add(p));
        Map<String, Long> targetNames = new LinkedHashMap<>();
        target.forEach(t -> targetNames.merge(normalise(t.name()), 1L, Long::sum));
        for (NamedTensor t : target) {
            String key = normalise(t.name());
            List<NamedTensor> same = sources.getOrDefault(key, List.of());
            if (same.size() == 1 && targetNames.get(key) == 1) {
                pair(same.get(0), t, "name", matches, used);
            }
        }
        for (NamedTensor t : target) {
            if (matches.containsKey(t)) {
                continue;
            }
            String key = normalise(t.name());
            List<NamedTensor> found = pretrained.stream().filter(p -> !used.contains(p) && prefixed(normalise(p.name()), key))
                    .toList();
            if (found.size() == 1) {
                String other = normalise(found.get(0).name());
                long rivals = target.stream().filter(u -> !matches.containsKey(u) && prefixed(other, normalise(u.name())))
                        .count();
                if (rivals == 1) {
                    pair(found.get(0), t, "name", matches, used);
                }
            }
        }
    }

    /** True when one name is the other behind a prefix of whole components. */
    private static boolean prefixed(String a, String b) {
        return a.endsWith("." + b) || b.endsWith("." + a);
    }

    private static void byOrder(List<NamedTensor> pretrained, List<NamedTensor> target, Map<NamedTensor, Match> matches,
                                Set<NamedTensor> used) {
        Map<TensorRole.Kind, List<NamedTensor>> sources = new EnumMap<>(TensorRole.Kind.class);
        for (NamedTensor p : pretrained) {
            if (!used.contains(p)) {
                sources.computeIfAbsent(p.role().kind(), k -> new ArrayList<>()).add(p);
            }
        }
        Map<TensorRole.Kind, Integer> next = new EnumMap<>(TensorRole.Kind.class);
        for (NamedTensor t : target) {
            if (matches.containsKey(t)) {
                continue;
            }
            List<NamedTensor> candidates = sources.getOrDefault(t.role().kind(), List.of());
            for (int i = next.getOrDefault(t.role().kind(), 0); i < candidates.size(); i++) {
                NamedTensor p = candidates.get(i);
                boolean fits = t.role() == TensorRole.OTHER ? java.util.Arrays.equals(p.shape(), t.shape())
                        : p.shape().length == t.shape().length;
                if (fits) {
                    pair(p, t, "order", matches, used);
                    next.put(t.role().kind(), i + 1);
                    break;
                }
            }
        }
    }

    private static void pair(NamedTensor source, NamedTensor target, String by, Map<NamedTensor, Match> matches,
                             Set<NamedTensor> used) {
        matches.put(target, new Match(source, target, by));
        used.add(source);
    }
}
