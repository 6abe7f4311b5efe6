package io.rechannel.transfer;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.RechannelException;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What {@link Transfer#run} does: put the weights of {@code from} (a pretrained model) into a copy of
 * {@code into} (the target: its architecture, its format) written as {@code output}. Build one with
 * {@link #of} and the {@code with…} methods; every choice has a default.
 *
 * @param from         the pretrained model
 * @param into         the target model, whose architecture and format the output has
 * @param output       the file to write
 * @param matching     how pretrained and target tensors are paired
 * @param head         what happens to a tensor whose shape differs other than in the input channels
 * @param numpyResize  refill every differing tensor as {@code numpy.resize} does (for comparison with old scripts)
 * @param fromChannels the pretrained model's input channels, or null: {@code RGB} for 3, else numbered
 * @param toChannels   the target's input channels, or null: as many as the target's input has
 * @param inits        channel rules as {@code extend --init} takes them
 * @param seed         seed of random channel initialisation
 * @param required     target tensors that must receive pretrained values
 * @param maxKept      the largest share of the target's values (0 to 1) that may keep the target's own values
 * @param overwrite    replace an existing output
 */
public record TransferRequest(Path from, Path into, Path output, Matching matching, Head head, boolean numpyResize,
                              ChannelLayout fromChannels, ChannelLayout toChannels, List<String> inits, long seed,
                              List<String> required, double maxKept, boolean overwrite) {

    /** The share of the target's values that may keep their own values unless said otherwise. */
    public static final double DEFAULT_MAX_KEPT = 0.5;

    /** How tensors are paired. */
    public enum Matching {
        /** By name first, then by order among the tensors left. */
        AUTO,
        /** By (normalised) name only. */
        NAME,
        /** By order among tensors of one kind only. */
        ORDER;

        public static Matching parse(String text) {
            return parseEnum(Matching.class, text, "--match", "name, order or auto");
        }
    }

    /** What happens to a tensor whose shape differs elsewhere than in the input channels (a classifier's class count). */
    public enum Head {
        /** The target keeps its own values, and the report says so. */
        KEEP_TARGET,
        /** The block both shapes share is copied; the target keeps its values elsewhere. */
        OVERLAP;

        public static Head parse(String text) {
            return parseEnum(Head.class, text.replace('-', '_'), "--head", "keep-target or overlap");
        }
    }

    public TransferRequest {
        inits = List.copyOf(inits);
        required = List.copyOf(required);
        if (!(maxKept >= 0 && maxKept <= 1)) {
            throw RechannelException.usage("--max-kept " + maxKept + ": a share between 0 and 1");
        }
        if (numpyResize && (!inits.isEmpty() || head != Head.KEEP_TARGET)) {
            throw RechannelException.usage("--resize numpy refills every tensor whose shape differs, the input layer's and"
                    + " the head's too, as numpy.resize did; it cannot be combined with --init or --head");
        }
    }

    /** A transfer with every default: match by name then order, keep the target's head, the extend default for new channels. */
    public static TransferRequest of(Path from, Path into, Path output) {
        return new TransferRequest(from, into, output, Matching.AUTO, Head.KEEP_TARGET, false, null, null, List.of(), 0,
                List.of(), DEFAULT_MAX_KEPT, false);
    }

    public TransferRequest withMatching(Matching value) {
        return with(b -> b.matching = value);
    }

    public TransferRequest withHead(Head value) {
        return with(b -> b.head = value);
    }

    public TransferRequest withNumpyResize() {
        return with(b -> b.numpyResize = true);
    }

    public TransferRequest withChannels(ChannelLayout pretrained, ChannelLayout target) {
        return with(b -> {
            b.fromChannels = pretrained;
            b.toChannels = target;
        });
    }

    public TransferRequest withInits(List<String> rules, long randomSeed) {
        return with(b -> {
            b.inits = rules;
            b.seed = randomSeed;
        });
    }

    public TransferRequest withRequired(List<String> names) {
        return with(b -> b.required = names);
    }

    public TransferRequest withMaxKept(double share) {
        return with(b -> b.maxKept = share);
    }

    public TransferRequest overwriting() {
        return with(b -> b.overwrite = true);
    }

    /** A copy with {@code change} applied to its fields (and checked again). */
    private TransferRequest with(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return new TransferRequest(from, into, output, f.matching, f.head, f.numpyResize, f.fromChannels, f.toChannels,
                f.inits, f.seed, f.required, f.maxKept, f.overwrite);
    }

    /** The choices of a request, to change one or two. */
    private static final class Fields {
        Matching matching;
        Head head;
        boolean numpyResize;
        ChannelLayout fromChannels;
        ChannelLayout toChannels;
        List<String> inits;
        long seed;
        List<String> required;
        double maxKept;
        boolean overwrite;

        Fields(TransferRequest r) {
            matching = r.matching;
            head = r.head;
            numpyResize = r.numpyResize;
            fromChannels = r.fromChannels;
            toChannels = r.toChannels;
            inits = r.inits;
            seed = r.seed;
            required = r.required;
            maxKept = r.maxKept;
            overwrite = r.overwrite;
        }
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String text, String option, String choices) {
        try {
            return Enum.valueOf(type, text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw RechannelException.usage(option + " " + text + ": use " + choices);
        }
    }
}
