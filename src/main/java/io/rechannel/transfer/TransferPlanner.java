package io.rechannel.transfer;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Shapes;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorRole;
import io.rechannel.format.TensorStore;
import io.rechannel.transfer.TransferReport.Entry;
import io.rechannel.transfer.TransferReport.Status;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides, for every tensor of the target, what it receives: the paired pretrained tensor laid out as the
 * target's framework lays it out; where only the input channels differ in a layer reading the model's
 * input, that tensor with its channels mapped as {@code extend} maps them; where other axes differ, the
 * target's own values (the default, said in the report) or the explicit rule asked for. Nothing is read
 * here: each edit reads its pretrained tensor when the output is written.
 */
final class TransferPlanner {

    /** The report and the edits that write it. */
    record Plan(TransferReport report, List<TensorEdit> edits) {
    }

    private final TransferRequest request;
    private final TensorStore pretrained;
    private final TensorStore target;
    private final InputChannels channels;
    private final Set<NamedTensor> head = new HashSet<>();
    private final List<String> warnings = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    TransferPlanner(TransferRequest request, TensorStore pretrained, TensorStore target) {
        this.request = request;
        this.pretrained = pretrained;
        this.target = target;
        this.channels = new InputChannels(request, pretrained, target);
    }

    Plan plan() {
        List<NamedTensor> sources = model(pretrained);
        List<NamedTensor> targets = model(target);
        findHead(targets);
        Map<NamedTensor, TensorMatcher.Match> matches = TensorMatcher.match(sources, targets, request.matching());
        List<Entry> entries = new ArrayList<>();
        List<TensorEdit> edits = new ArrayList<>();
        for (NamedTensor t : targets) {
            TensorMatcher.Match match = matches.get(t);
            if (match == null) {
                entries.add(new Entry(t.name(), t.shapeList(), null, null, Status.MISSING, null,
                        "no pretrained tensor " + (request.matching() == TransferRequest.Matching.NAME ? "has its name"
                                : "matches it by name or by order")));
                continue;
            }
            Decision decision = decide(match.source(), t);
            entries.add(new Entry(t.name(), t.shapeList(), match.source().name(), match.source().shapeList(),
                    decision.status(), match.by(), decision.detail()));
            if (decision.streamed()) {
                edits.add(new TensorEdit(t, t.shape(), copy(match.source(), t)));
            } else if (decision.values() != null) {
                edits.add(TensorEdit.whole(t, t.shape(), checked(t, decision.values())));
            }
        }
        Set<NamedTensor> used = new HashSet<>();
        matches.values().forEach(m -> used.add(m.source()));
        List<String> unmatched = sources.stream().filter(p -> !used.contains(p)).map(p -> p.name() + " " + p.shapeList())
                .toList();
        if (target.hasOptimizer()) {
            notes.add("the target's optimizer state is kept as it was; it belongs to the target's own weights");
        }
        notes.addAll(channels.notes());
        TransferReport report = new TransferReport(pretrained.file().toString(), target.file().toString(), null,
                channels.rules(), entries, unmatched, warnings, notes);
        return new Plan(report, edits);
    }

    private static List<NamedTensor> model(TensorStore store) {
        return store.tensors().stream().filter(t -> !t.isOptimizerSlot()).toList();
    }

    /** The target's classifier: its last kernel or dense weight and the biases that follow it. */
    private void findHead(List<NamedTensor> targets) {
        int last = -1;
        for (int i = 0; i < targets.size(); i++) {
            TensorRole.Kind kind = targets.get(i).role().kind();
            if (kind == TensorRole.Kind.KERNEL || kind == TensorRole.Kind.MATRIX) {
                last = i;
            }
        }
        for (int i = Math.max(last, 0); last >= 0 && i < targets.size(); i++) {
            TensorRole.Kind kind = targets.get(i).role().kind();
            if (i == last || kind == TensorRole.Kind.BIAS) {
                head.add(targets.get(i));
            }
        }
    }

    /**
     * What a paired target tensor gets: {@code values} computed whole, or with {@code streamed} the pretrained
     * tensor copied as it is, block by block; neither when it keeps its own.
     */
    private record Decision(Status status, String detail, Supplier<double[]> values, boolean streamed) {
        Decision(Status status, String detail, Supplier<double[]> values) {
            this(status, detail, values, false);
        }

        static Decision kept(String why) {
            return new Decision(Status.KEPT, why, null);
        }
    }

    private Decision decide(NamedTensor p, NamedTensor t) {
        if (!p.isFloating() || !t.isFloating()) {
            return Decision.kept("holds " + (p.isFloating() ? t.dtype() : p.dtype())
                    + " values; only floating-point tensors are transferred");
        }
        Layouts.Conversion conversion = Layouts.plan(p.role(), p.shape(), t.role(), t.shape());
        if (!conversion.possible()) {
            return Decision.kept("not transferred: " + conversion.refusal());
        }
        String layout = Layouts.layoutChange(p.role(), t.role(), conversion).map(s -> "; " + s).orElse("");
        long[] from = conversion.shape();
        long[] to = t.shape();
        Supplier<double[]> converted = () -> Layouts.apply(checkedSource(p, pretrained.read(p)), p.shape(), conversion);
        if (Arrays.equals(from, to)) {
            return new Decision(Status.COPIED, layout.isEmpty() ? "" : layout.substring(2), converted, layout.isEmpty());
        }
        if (request.numpyResize()) {
            return numpy(p, t, from, converted, layout);
        }
        Optional<Decision> adapted = adapt(p, t, from, converted, layout);
        if (adapted.isPresent()) {
            return adapted.get();
        }
        String difference = difference(from, to);
        if (request.head() == TransferRequest.Head.OVERLAP) {
            long shared = ShapeRules.overlapSize(from, to);
            return new Decision(Status.RESIZED, "overlap: " + difference + "; the shared block " + shape(shared(from, to))
                    + " (" + shared + " of " + t.elements() + " values) copied, the rest kept from the target" + layout,
                    () -> ShapeRules.overlap(converted.get(), from, target.read(t), to));
        }
        return Decision.kept(head.contains(t)
                ? "head: " + difference + "; the target keeps its own (--head keep-target; --head overlap copies the shared block)"
                : difference + "; the target keeps its own (--head overlap copies the shared block, --resize numpy refills"
                        + " it cyclically)");
    }

    private Decision numpy(NamedTensor p, NamedTensor t, long[] from, Supplier<double[]> converted, String layout) {
        long inPlace = ShapeRules.keptInPlace(from, t.shape());
        String detail = "numpy.resize " + shape(from) + " -> " + shape(t.shape()) + ": " + inPlace + " of "
                + t.elements() + " values at their own index" + layout;
        if (ShapeRules.scrambles(from, t.shape())) {
            warnings.add(t.name() + ": numpy.resize scrambles it: flattened and refilled cyclically, only " + inPlace
                    + " of its " + t.elements() + " values keep their place (" + p.name() + " " + shape(from) + ")");
        }
        return new Decision(Status.RESIZED, detail, () -> ShapeRules.numpyResize(converted.get(), t.shape()));
    }

    /** The input channels mapped, for a layer reading the model's input or a per-channel constant in front of it. */
    private Optional<Decision> adapt(NamedTensor p, NamedTensor t, long[] from, Supplier<double[]> converted, String layout) {
        int rank = from.length;
        int axis = t.role().inputAxis(rank);
        if (axis < 0 || !onlyAxisDiffers(from, t.shape(), axis)) {
            return Optional.empty();
        }
        boolean constant = rank == 1 && channels.isConstant(p, t);
        if (!constant && !channels.readsInput(p, t)) {
            return Optional.empty();
        }
        ChannelMap map = channels.map(p, t, from[axis], t.shape()[axis]);
        AxisView view = InputChannels.view(t.role(), from, axis, map.oldCount());
        if (view == null || view.withCount(map.newCount()).size() != t.elements()) {
            return Optional.of(Decision.kept("its input axis holds " + from[axis] + " values for the pretrained model's "
                    + map.oldCount() + " input channels and " + t.shape()[axis] + " for the target's " + map.newCount()
                    + "; they do not map channel for channel"));
        }
        String rules = String.join(", ", map.rules());
        if (constant) {
            return Optional.of(new Decision(Status.ADAPTED, "per-channel constants " + map.from() + " -> " + map.to()
                    + (rules.isEmpty() ? "" : " (" + rules + ")") + layout,
                    () -> ChannelMixer.remapConstants(converted.get(), view, map)));
        }
        long seed = map.seed() ^ t.name().hashCode();
        return Optional.of(new Decision(Status.ADAPTED, "input channels " + map.from() + " -> " + map.to()
                + (rules.isEmpty() ? "" : " (" + rules + ")") + layout,
                () -> ChannelMixer.mixWeight(converted.get(), view, map, seed)));
    }

    private static boolean onlyAxisDiffers(long[] a, long[] b, int axis) {
        for (int d = 0; d < a.length; d++) {
            if ((a[d] != b[d]) != (d == axis)) {
                return false;
            }
        }
        return true;
    }

    /** Values checked before they are written: as many as the tensor holds, each one its type can hold. */
    private Supplier<double[]> checked(NamedTensor t, Supplier<double[]> values) {
        return () -> {
            double[] result = values.get();
            if (result.length != t.elements()) {
                throw new IllegalStateException(t.name() + ": " + result.length + " values for " + t.shapeList());
            }
            return checkedResult(t, result);
        };
    }

    /** A pretrained tensor of the target's own shape and layout, copied block by block (rows of the first axis). */
    private TensorEdit.Values copy(NamedTensor p, NamedTensor t) {
        return out -> {
            Blocks.Reader in = pretrained.reader(p);
            long[] shape = t.shape();
            long row = shape.length == 0 ? 1 : Shapes.count(Arrays.copyOfRange(shape, 1, shape.length));
            long rows = shape.length == 0 ? 1 : shape[0];
            long step = Math.max(1, Blocks.budget() / Math.max(1, row));
            for (long first = 0; first < rows; first += step) {
                Hyperslab slab = rows(shape, first, Math.min(step, rows - first));
                double[] values = new double[Math.toIntExact(slab.size())];
                in.read(slab, values);
                out.write(slab, checkedResult(t, checkedSource(p, values)));
            }
        };
    }

    private static Hyperslab rows(long[] shape, long first, long count) {
        if (shape.length == 0) {
            return Hyperslab.whole(shape);
        }
        long[] start = new long[shape.length];
        long[] ones = new long[shape.length];
        Arrays.fill(ones, 1);
        long[] block = shape.clone();
        start[0] = first;
        block[0] = count;
        return new Hyperslab(start, ones, ones, block);
    }

    /** Pretrained values must be finite (exit 4, naming the pretrained file and tensor). */
    private double[] checkedSource(NamedTensor p, double[] values) {
        ChannelMixer.checkSource(values, p.elementType(), pretrained.file() + ": tensor '" + p.name() + "'");
        return values;
    }

    /** Values written must fit the target's element type (exit 7, naming the target tensor). */
    private double[] checkedResult(NamedTensor t, double[] values) {
        ChannelMixer.checkResult(values, t.elementType(), target.file() + ": tensor '" + t.name() + "'");
        return values;
    }

    private static String difference(long[] from, long[] to) {
        List<String> axes = new ArrayList<>();
        for (int d = 0; d < from.length; d++) {
            if (from[d] != to[d]) {
                axes.add("axis " + d + ": " + from[d] + " pretrained, " + to[d] + " target");
            }
        }
        return "shapes differ (" + String.join("; ", axes) + ")";
    }

    private static long[] shared(long[] a, long[] b) {
        long[] s = new long[a.length];
        for (int d = 0; d < a.length; d++) {
            s[d] = Math.min(a[d], b[d]);
        }
        return s;
    }

    static String shape(long[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }
}
