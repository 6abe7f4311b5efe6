package io.rechannel.torch;

import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The roles of a state dict's tensors, told from their names and shapes as PyTorch modules name them:
 * {@code weight} of rank 3–5 is a convolution (out, in, …), of rank 2 a Linear (out, in); {@code bias} a
 * bias; a module holding {@code running_mean} is batch normalisation (weight, bias, running_mean,
 * running_var). A depthwise convolution cannot be told from a plain one with one input channel.
 */
final class StateDictRoles {

    private StateDictRoles() {
    }

    static List<NamedTensor> assign(List<NamedTensor> tensors) {
        Set<String> normalised = new HashSet<>();
        for (NamedTensor t : tensors) {
            if (!t.isOptimizerSlot() && t.name().endsWith(".running_mean")) {
                normalised.add(module(t.name()));
            }
        }
        return tensors.stream().map(t -> t.isOptimizerSlot() ? t : t.withRole(role(t, normalised))).toList();
    }

    private static TensorRole role(NamedTensor t, Set<String> normalised) {
        String name = t.name();
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        int rank = t.shape().length;
        if (!t.isFloating()) {
            return TensorRole.OTHER;
        }
        if (normalised.contains(module(name))) {
            return switch (leaf) {
                case "weight" -> TensorRole.BN_GAMMA;
                case "bias" -> TensorRole.BN_BETA;
                case "running_mean" -> TensorRole.BN_MEAN;
                case "running_var" -> TensorRole.BN_VARIANCE;
                default -> TensorRole.OTHER;
            };
        }
        if (leaf.equals("weight") && rank >= 3 && rank <= 5) {
            return TensorRole.CONV_OIHW;
        }
        if (leaf.equals("weight") && rank == 2) {
            return TensorRole.LINEAR_OUT_IN;
        }
        if (leaf.equals("bias") && rank == 1) {
            return TensorRole.BIAS;
        }
        return TensorRole.OTHER;
    }

    private static String module(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(0, dot);
    }
}
