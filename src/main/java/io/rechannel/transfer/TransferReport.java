package io.rechannel.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.Shapes;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a transfer did to every tensor of the target, with both shapes; the totals; the pretrained tensors
 * no target tensor took; warnings (tensors {@code numpy.resize} scrambled) and notes.
 *
 * @param output     the file written, or null when nothing was written
 * @param channelMap the channel map's rules where the input channels changed, else empty
 */
public record TransferReport(String pretrained, String target, String output, List<String> channelMap,
                             List<Entry> tensors, List<String> unmatched, List<String> warnings, List<String> notes) {

    /** What happened to a target tensor. */
    public enum Status {
        /** The pretrained values, as they are or laid out as the target's framework lays them out. */
        COPIED,
        /** The pretrained values with the input channels mapped, as {@code extend} maps them. */
        ADAPTED,
        /** The pretrained values under an explicit rule ({@code --head overlap}, {@code --resize numpy}). */
        RESIZED,
        /** A pretrained tensor was paired with it but could not be transferred: the target's own values stay. */
        KEPT,
        /** No pretrained tensor was paired with it: the target's own values stay. */
        MISSING;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One target tensor.
     *
     * @param source    the pretrained tensor paired with it, or null
     * @param matchedBy {@code name} or {@code order}, or null
     * @param detail    how it was transferred, or why not
     */
    public record Entry(String tensor, List<Long> shape, String source, List<Long> sourceShape, Status status,
                        String matchedBy, String detail) {

        public long elements() {
            return Shapes.count(shape.stream().mapToLong(Long::longValue).toArray());
        }
    }

    public TransferReport {
        channelMap = List.copyOf(channelMap);
        tensors = List.copyOf(tensors);
        unmatched = List.copyOf(unmatched);
        warnings = List.copyOf(warnings);
        notes = List.copyOf(notes);
    }

    /** The same report naming the file written. */
    TransferReport writtenTo(String file) {
        return new TransferReport(pretrained, target, file, channelMap, tensors, unmatched, warnings, notes);
    }

    public Map<Status, Integer> counts() {
        Map<Status, Integer> counts = new EnumMap<>(Status.class);
        for (Status s : Status.values()) {
            counts.put(s, 0);
        }
        tensors.forEach(e -> counts.merge(e.status(), 1, Integer::sum));
        return counts;
    }

    /** The target's values (elements of every listed tensor). */
    public long elements() {
        return tensors.stream().mapToLong(Entry::elements).sum();
    }

    /** The share of the target's values left as the target had them (kept and missing tensors). */
    public double keptShare() {
        long total = elements();
        long kept = tensors.stream().filter(e -> e.status() == Status.KEPT || e.status() == Status.MISSING)
                .mapToLong(Entry::elements).sum();
        return total == 0 ? 1 : (double) kept / total;
    }

    /** The report as a table for the terminal, then totals, unmatched tensors, warnings and notes. */
    public String table() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"status", "target tensor", "shape", "pretrained tensor", "shape", "by", "detail"});
        for (Entry e : tensors) {
            rows.add(new String[] {e.status().label(), e.tensor(), shape(e.shape()), e.source() == null ? "-" : e.source(),
                    e.sourceShape() == null ? "-" : shape(e.sourceShape()), e.matchedBy() == null ? "-" : e.matchedBy(),
                    e.detail()});
        }
        int[] widths = new int[6];
        for (String[] row : rows) {
            for (int c = 0; c < widths.length; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            for (int c = 0; c < widths.length; c++) {
                out.append(String.format("%-" + widths[c] + "s  ", row[c]));
            }
            out.append(row[6]).append('\n');
        }
        out.append(totals()).append('\n');
        if (!channelMap.isEmpty()) {
            out.append("channel map: ").append(String.join(", ", channelMap)).append('\n');
        }
        if (!unmatched.isEmpty()) {
            out.append("pretrained tensors not used (").append(unmatched.size()).append("): ")
                    .append(String.join(", ", unmatched)).append('\n');
        }
        warnings.forEach(w -> out.append("warning: ").append(w).append('\n'));
        notes.forEach(n -> out.append("note: ").append(n).append('\n'));
        out.append(output == null ? "nothing written\n" : "written: " + output + "\n");
        return out.toString();
    }

    /** One line of totals: counts per status and the share of values the target kept. */
    public String totals() {
        StringBuilder line = new StringBuilder(tensors.size() + " target tensors:");
        counts().forEach((s, n) -> line.append(' ').append(n).append(' ').append(s.label()).append(','));
        line.setLength(line.length() - 1);
        return line.append(String.format(Locale.ROOT, "; %.1f%% of the target's %d values keep the target's own",
                100 * keptShare(), elements())).toString();
    }

    /** The report as JSON ({@code --json}, {@code --report}). */
    public ObjectNode json() {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("pretrained", pretrained).put("target", target).put("output", output);
        ArrayNode map = root.putArray("channelMap");
        channelMap.forEach(map::add);
        ArrayNode list = root.putArray("tensors");
        for (Entry e : tensors) {
            ObjectNode node = list.addObject().put("tensor", e.tensor()).put("status", e.status().label());
            e.shape().forEach(node.putArray("shape")::add);
            node.put("source", e.source());
            if (e.sourceShape() != null) {
                e.sourceShape().forEach(node.putArray("sourceShape")::add);
            } else {
                node.putNull("sourceShape");
            }
            node.put("matchedBy", e.matchedBy()).put("detail", e.detail());
        }
        ObjectNode totals = root.putObject("totals");
        counts().forEach((s, n) -> totals.put(s.label(), n));
        totals.put("values", elements()).put("keptShare", keptShare());
        unmatched.forEach(root.putArray("unmatchedPretrained")::add);
        warnings.forEach(root.putArray("warnings")::add);
        notes.forEach(root.putArray("notes")::add);
        return root;
    }

    private static String shape(List<Long> shape) {
        return shape.toString().replace(" ", "");
    }
}
