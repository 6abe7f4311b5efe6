package io.rechannel.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Channel specifications that are valid but likely not what the user meant: each gives one line, printed
 * as a warning, and the run goes on.
 */
public final class ChannelNameWarnings {

    private static final Set<String> PHOTOGRAPHIC = Set.of("r", "g", "b");

    private ChannelNameWarnings() {
    }

    public static List<String> of(ChannelLayout old, ChannelLayout target) {
        List<String> warnings = new ArrayList<>();
        List<String> recased = new ArrayList<>();
        List<String> oldNames = new ArrayList<>();
        for (String name : target.names()) {
            int i = old.indexOf(name);
            if (i >= 0 && !old.name(i).equals(name)) {
                recased.add("'" + name + "'");
                oldNames.add(old.name(i));
            }
        }
        if (!recased.isEmpty()) {
            warnings.add(OptionName.TO + " " + target + ": " + String.join(", ", recased) + " differ" + (recased.size() == 1 ? "s" : "")
                    + " only in case from the model's " + String.join(", ", oldNames) + " and are taken as "
                    + (recased.size() == 1 ? "that channel" : "those channels") + " (channel names ignore case)");
        }
        boolean photographic = old.size() == 3 && old.names().stream().allMatch(n -> PHOTOGRAPHIC.contains(n.toLowerCase(java.util.Locale.ROOT)));
        for (String name : target.names()) {
            if (photographic && (name.equalsIgnoreCase("a") || name.equalsIgnoreCase("alpha")) && old.indexOf(name) < 0) {
                warnings.add(OptionName.TO + " " + target + ": '" + name + "' is usually alpha (transparency), which this photographic"
                        + " model never saw; if the new channel is another band, give it its own name (e.g. Y for yellow)");
            }
        }
        return List.copyOf(warnings);
    }
}
