package io.rechannel.core;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The names of a tensor's channels, in order: {@code [R, G, B]}, {@code [B, G, R]}, {@code [R, G, B, Y]}.
 * Names compare case-insensitively, and the colour letters match their long names
 * ({@code R} = {@code red}, {@code Y} = {@code yellow}, {@code L} = {@code gray}).
 */
public record ChannelLayout(List<String> names) {

    private static final Map<String, String> ALIASES = Map.of(
            "red", "r", "green", "g", "blue", "b", "yellow", "y",
            "gray", "l", "grey", "l", "luminance", "l");

    public ChannelLayout {
        names = List.copyOf(names);
        if (names.isEmpty()) {
            throw RechannelException.usage("a channel layout needs at least one channel");
        }
        for (int i = 0; i < names.size(); i++) {
            for (int k = 0; k < i; k++) {
                if (canonical(names.get(i)).equals(canonical(names.get(k)))) {
                    throw RechannelException.usage("channel '" + names.get(i) + "' appears twice in " + names);
                }
            }
        }
    }

    /**
     * Parses a channel specification: a comma list ({@code red,green,blue,yellow}), a plain count
     * ({@code 4}: channels named {@code c0..c3}), or one letter per channel ({@code RGBY}).
     */
    public static ChannelLayout parse(String spec) {
        String s = spec == null ? "" : spec.trim();
        if (s.isEmpty()) {
            throw RechannelException.usage("empty channel specification");
        }
        if (s.contains(",")) {
            List<String> names = new ArrayList<>();
            for (String part : s.split(",", -1)) {
                String name = part.trim();
                if (name.isEmpty() || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw RechannelException.usage("bad channel name '" + name + "' in '" + spec + "'");
                }
                names.add(name);
            }
            return new ChannelLayout(names);
        }
        if (s.matches("\\d+")) {
            // any number of digits: one past the limit stands for every larger count
            int count = new BigInteger(s).min(BigInteger.valueOf(4097)).intValueExact();
            if (count < 1 || count > 4096) {
                throw RechannelException.usage("channel count must be between 1 and 4096, got " + s);
            }
            return numbered(count);
        }
        if (!s.matches("[A-Za-z]+")) {
            throw RechannelException.usage("cannot read channel specification '" + spec
                    + "': use letters (RGBY), a comma list (red,green,blue,yellow) or a count (4)");
        }
        List<String> names = new ArrayList<>();
        for (char c : s.toCharArray()) {
            names.add(String.valueOf(c));
        }
        return new ChannelLayout(names);
    }

    /** Channels without meaning, named {@code c0 .. c(n-1)}. */
    public static ChannelLayout numbered(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add("c" + i);
        }
        return new ChannelLayout(names);
    }

    /** The layout assumed for a model's existing channels when the user gives none: RGB for 3. */
    public static ChannelLayout defaultFor(int count) {
        return count == 3 ? parse("RGB") : numbered(count);
    }

    /** A layout of {@code count} channels: the first keep this layout's names, any added are named {@code cN}. */
    public ChannelLayout resized(int count) {
        List<String> resized = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            resized.add(i < names.size() ? names.get(i) : "c" + i);
        }
        return new ChannelLayout(resized);
    }

    public int size() {
        return names.size();
    }

    public String name(int index) {
        return names.get(index);
    }

    /** Index of the channel with this name (or alias), or -1. */
    public int indexOf(String name) {
        String key = canonical(name);
        for (int i = 0; i < names.size(); i++) {
            if (canonical(names.get(i)).equals(key)) {
                return i;
            }
        }
        return -1;
    }

    /** True when every channel name is of the {@code cN} form produced by {@link #numbered}. */
    public boolean isNumbered() {
        return equals(numbered(size()));
    }

    private static String canonical(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return ALIASES.getOrDefault(lower, lower);
    }

    @Override
    public String toString() {
        boolean letters = names.stream().allMatch(n -> n.length() == 1);
        return letters ? String.join("", names) : String.join(",", names);
    }
}
