package io.rechannel.core;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A new channel's own statistics ({@code --stats Y=mean:0.08,std:0.12}), used for the first
 * normalising layer in front of the adapted layers, in that layer's input units.
 */
public record ChannelStats(double mean, double std) {

    public ChannelStats {
        String refusal = refusal(mean, std);
        if (refusal != null) {
            throw RechannelException.usage(OptionName.STATS + ": " + refusal);
        }
    }

    /** Why a mean and std cannot be used, or null: both finite, the std positive and its square (the variance) too. */
    private static String refusal(double mean, double std) {
        // NaN compares false with everything, so each test is written to fail for it
        if (!Double.isFinite(mean)) {
            return "the mean " + mean + " is not a finite number";
        }
        if (!(std > 0) || !Double.isFinite(std) || !(std * std > 0) || !Double.isFinite(std * std)) {
            return "the std " + std + " must be a positive finite number whose square (the variance) is too";
        }
        return null;
    }

    /** Parses {@code NAME=mean:M,std:S} rules into a map from channel name to statistics. */
    public static Map<String, ChannelStats> parse(Iterable<String> rules) {
        Map<String, ChannelStats> stats = new LinkedHashMap<>();
        for (String rule : rules) {
            int eq = rule.indexOf('=');
            if (eq <= 0) {
                throw RechannelException.usage(OptionName.STATS + " " + rule + ": write NAME=mean:M,std:S");
            }
            Double mean = null;
            Double std = null;
            for (String part : rule.substring(eq + 1).split(",")) {
                String[] kv = part.split(":", 2);
                if (kv.length != 2) {
                    throw RechannelException.usage(OptionName.STATS + " " + rule + ": cannot read '" + part + "'; write mean:M,std:S");
                }
                double value;
                try {
                    value = Double.parseDouble(kv[1].trim());
                } catch (NumberFormatException e) {
                    throw RechannelException.usage(OptionName.STATS + " " + rule + ": '" + kv[1] + "' is not a number");
                }
                switch (kv[0].trim().toLowerCase(Locale.ROOT)) {
                    case "mean" -> mean = value;
                    case "std" -> std = value;
                    case "var", "variance" -> std = Math.sqrt(value);
                    default -> throw RechannelException.usage(OptionName.STATS + " " + rule + ": unknown statistic '" + kv[0] + "'");
                }
            }
            if (mean == null || std == null) {
                throw RechannelException.usage(OptionName.STATS + " " + rule + ": give both mean and std");
            }
            String refusal = refusal(mean, std);
            if (refusal != null) {
                throw RechannelException.usage(OptionName.STATS + " " + rule + ": " + refusal);
            }
            stats.put(rule.substring(0, eq).trim(), new ChannelStats(mean, std));
        }
        return stats;
    }
}
