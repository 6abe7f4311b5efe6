package io.rechannel.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code --init} rules into a {@link ChannelMap}.
 *
 * <p>Whole-model presets: {@code copy-last}, {@code mean}, {@code sum}, {@code zeros}, {@code random}
 * (each for every new channel) and {@code timm} (timm's {@code adapt_input_conv}: one channel = sum of
 * the old ones; otherwise cycle the old channels and scale all by old/new). Per-channel rules:
 * {@code Y=B}, {@code Y=0}, {@code Y=mean}, {@code Y=sum}, {@code Y=random}, {@code Y=0.5*R+0.5*G}.
 *
 * <p>Channels present in both layouts keep their weights unless a rule names them. A new channel
 * without a rule starts as the mean of the old channels. When no old channel is kept (RGB to gray,
 * gray to RGBY), each new channel starts as the sum of the old ones divided by the new count, so that
 * one image fed to every new channel gives what the old model gave for it in every old channel.
 */
final class ChannelMapParser {

    private static final Pattern TERM = Pattern.compile(
            "([+-]?)\\s*(?:(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+)\\s*\\*\\s*)?([A-Za-z_][A-Za-z0-9_]*)"
                    + "(?:\\s*\\*\\s*(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+))?\\s*");

    private ChannelMapParser() {
    }

    static ChannelMap build(ChannelLayout from, ChannelLayout to, List<String> inits, long seed) {
        int n = to.size();
        int m = from.size();
        double[][] matrix = new double[n][m];
        boolean[] fresh = new boolean[n];
        String[] rules = new String[n];
        boolean anyKept = false;
        for (int j = 0; j < n; j++) {
            anyKept |= from.indexOf(to.name(j)) >= 0;
        }
        String preset = null;
        List<String> channelRules = new ArrayList<>();
        for (String init : inits) {
            String rule = init.trim();
            if (rule.contains("=")) {
                channelRules.add(rule);
            } else if (preset != null) {
                throw RechannelException.usage("two whole-model presets given in " + OptionName.INIT + ": '" + preset
                        + "' and '" + rule + "'");
            } else {
                preset = rule.toLowerCase(Locale.ROOT);
            }
        }
        for (int j = 0; j < n; j++) {
            int same = from.indexOf(to.name(j));
            if (same >= 0 && !"timm".equals(preset)) {
                matrix[j][same] = 1.0;
                rules[j] = to.name(j) + "=" + from.name(same);
            } else {
                if (preset == null && !anyKept) {
                    Arrays.fill(matrix[j], 1.0 / n);
                    rules[j] = to.name(j) + "=" + formatRow(from, matrix[j]);
                    continue;
                }
                String keyword = preset == null || "timm".equals(preset) ? "mean" : preset;
                applyKeyword(keyword, from, j, matrix, fresh, OptionName.INIT + " " + keyword);
                rules[j] = to.name(j) + "=" + keyword;
            }
        }
        if ("timm".equals(preset)) {
            applyTimm(from, to, matrix, rules);
        }
        String[] ruled = new String[n];
        for (String rule : channelRules) {
            int eq = rule.indexOf('=');
            String target = rule.substring(0, eq).trim();
            String expr = rule.substring(eq + 1).trim();
            int j = to.indexOf(target);
            if (j < 0) {
                throw RechannelException.usage(OptionName.INIT + " " + rule + ": '" + target
                        + "' is not one of the new channels " + to);
            }
            if (ruled[j] != null) {
                throw RechannelException.usage(OptionName.INIT + " " + ruled[j] + " and " + OptionName.INIT + " " + rule
                        + ": two rules for channel '" + to.name(j) + "'; give one");
            }
            ruled[j] = rule;
            Arrays.fill(matrix[j], 0.0);
            fresh[j] = false;
            String keyword = expr.toLowerCase(Locale.ROOT);
            if (isKeyword(keyword)) {
                applyKeyword(keyword, from, j, matrix, fresh, OptionName.INIT + " " + rule);
            } else {
                parseCombination(expr, from, matrix[j], rule);
            }
            rules[j] = to.name(j) + "=" + expr;
        }
        return new ChannelMap(from, to, matrix, fresh, seed, List.of(rules));
    }

    private static boolean isKeyword(String s) {
        return switch (s) {
            case "0", "zero", "zeros", "mean", "sum", "random", "copy-last" -> true;
            default -> false;
        };
    }

    private static void applyKeyword(String keyword, ChannelLayout from, int j, double[][] matrix, boolean[] fresh,
                                     String context) {
        int m = from.size();
        switch (keyword) {
            case "0", "zero", "zeros" -> { }
            case "mean" -> Arrays.fill(matrix[j], 1.0 / m);
            case "sum" -> Arrays.fill(matrix[j], 1.0);
            case "copy-last" -> matrix[j][m - 1] = 1.0;
            case "random" -> fresh[j] = true;
            default -> throw RechannelException.usage(context + ": unknown initialisation '" + keyword
                    + "'; use copy-last, mean, sum, zeros, random, timm or NAME=EXPR");
        }
    }

    /** timm's adapt_input_conv, generalised from 3 to any number of old channels. */
    private static void applyTimm(ChannelLayout from, ChannelLayout to, double[][] matrix, String[] rules) {
        int n = to.size();
        int m = from.size();
        for (int j = 0; j < n; j++) {
            Arrays.fill(matrix[j], 0.0);
            if (n == 1) {
                Arrays.fill(matrix[j], 1.0);
            } else {
                matrix[j][j % m] = (double) m / n;
            }
            rules[j] = to.name(j) + "=" + formatRow(from, matrix[j]);
        }
    }

    private static void parseCombination(String expr, ChannelLayout from, double[] row, String rule) {
        Matcher matcher = TERM.matcher(expr);
        int pos = 0;
        boolean first = true;
        while (pos < expr.length()) {
            if (!matcher.find(pos) || matcher.start() != pos) {
                throw RechannelException.usage(OptionName.INIT + " " + rule + ": cannot read '" + expr.substring(pos)
                        + "'; write a channel name or a sum like 0.5*R+0.5*G");
            }
            String sign = matcher.group(1);
            if (!first && sign.isEmpty()) {
                throw RechannelException.usage(OptionName.INIT + " " + rule + ": missing + or - before '"
                        + matcher.group().trim() + "'");
            }
            double coefficient = 1.0;
            for (int group : new int[] {2, 4}) {
                if (matcher.group(group) != null) {
                    coefficient *= finite(Double.parseDouble(matcher.group(group)), matcher.group(group), rule);
                }
            }
            if ("-".equals(sign)) {
                coefficient = -coefficient;
            }
            String name = matcher.group(3);
            int i = from.indexOf(name);
            if (i < 0) {
                throw RechannelException.usage(OptionName.INIT + " " + rule + ": unknown channel '" + name
                        + "'; the model's channels are " + from
                        + (from.isNumbered() ? " (name them with " + OptionName.FROM + ")" : ""));
            }
            row[i] = finite(row[i] + coefficient, matcher.group().trim(), rule);
            pos = matcher.end();
            first = false;
        }
        if (first) {
            throw RechannelException.usage(OptionName.INIT + " " + rule + ": empty expression");
        }
    }

    /** A coefficient must be a finite number: 1e400 reads as infinity, and infinity times a weight is no weight. */
    private static double finite(double value, String text, String rule) {
        if (!Double.isFinite(value)) {
            throw RechannelException.usage(OptionName.INIT + " " + rule + ": '" + text + "' gives " + value
                    + "; coefficients must be finite numbers");
        }
        return value;
    }

    /** Renders a matrix row as a rule expression, e.g. {@code 0.75*R}. */
    static String formatRow(ChannelLayout from, double[] row) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < row.length; i++) {
            double w = row[i];
            if (w == 0) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(w < 0 ? "-" : "+");
            } else if (w < 0) {
                sb.append('-');
            }
            double a = Math.abs(w);
            if (a != 1.0) {
                sb.append(trim(a)).append('*');
            }
            sb.append(from.name(i));
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.6g", v);
        if (s.contains(".") && !s.contains("e")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s;
    }
}
