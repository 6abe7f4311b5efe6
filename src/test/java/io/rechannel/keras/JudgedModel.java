package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A Keras model file as the real-Keras judge sees it, and the adaptations it is judged on.
 *
 * @param file           the model (.h5, .keras) or a standalone .weights.h5
 * @param config         the .keras archive holding a standalone weights file's model, else null
 * @param args           arguments the model needs (--input for several inputs)
 * @param input          the name of the input adapted, as {@code rechannel inspect} reports it
 * @param channels       its channel count
 * @param channelsFirst  whether its channels come first (axis 1) rather than last
 * @param optimizer      whether the file holds optimizer state
 * @param preprocessing  whether per-channel preprocessing precedes the first layers (so --stats applies)
 * @param batch          the batch size of the random inputs
 * @param freeDim        the size given to dimensions the model leaves open
 */
record JudgedModel(Path file, Path config, List<String> args, String input, int channels, boolean channelsFirst,
                   boolean optimizer, boolean preprocessing, int batch, int freeDim) {

    /**
     * An adaptation to judge: its extend arguments and, where it defines an exact expectation, which adapted
     * channel holds each original channel ({@code select[i]}); null where only loading and finite outputs are expected.
     */
    record Init(String label, List<String> args, int[] select) {
        Init(String label, int[] select, String... args) {
            this(label, List.of(args), select);
        }

        /**
         * The adaptation of a 3-channel model, its channels taken as they are ({@code --from RGB}) unless it
         * names them: caffe-style models (the VGG fixtures) stop without {@code --from}.
         */
        static Init rgb(String label, int[] select, String... args) {
            List<String> all = new ArrayList<>(List.of(args));
            if (!all.contains("--from")) {
                all.addAll(0, List.of("--from", "RGB"));
            }
            return new Init(label, List.copyOf(all), select);
        }
    }

    /** The Keras files of a folder (.h5, .hdf5, .keras, .weights.h5) whose names {@code include} accepts, sorted. */
    static List<Path> kerasFiles(Path folder, Predicate<String> include) throws IOException {
        try (Stream<Path> list = Files.list(folder)) {
            return list.filter(p -> p.getFileName().toString().matches(".*\\.(h5|hdf5|keras)$"))
                    .filter(p -> include.test(p.getFileName().toString())).sorted().toList();
        }
    }

    /** Reads the model's input with {@code rechannel inspect}. */
    static JudgedModel of(Path file, Path config, List<String> args, int batch, int freeDim) throws Exception {
        List<String> inspect = new ArrayList<>(List.of("inspect", file.toString()));
        if (config != null) {
            inspect.addAll(List.of("--config", config.toString()));
        }
        inspect.add("--json");
        TestSupport.Run run = TestSupport.cli(inspect.toArray(String[]::new));
        if (run.exitCode() != 0) {
            throw new AssertionError("rechannel inspect: " + run.err());
        }
        JsonNode report = new ObjectMapper().readTree(run.out());
        int chosen = args.indexOf("--input");
        JsonNode input = report.path("inputs").get(0);
        for (JsonNode candidate : report.path("inputs")) {
            if (chosen >= 0 && candidate.path("name").asText().equals(args.get(chosen + 1))) {
                input = candidate;
            }
        }
        return new JudgedModel(file, config, args, input.path("name").asText(), input.path("channels").asInt(),
                input.path("dataFormat").asText().equals("channels_first"),
                report.path("details").path("optimizer_state").asText().equals("true"),
                !report.path("preprocessing").isEmpty(), batch, freeDim);
    }

    String label() {
        return file.getFileName() + (config == null ? "" : " with " + config.getFileName());
    }

    /** The exact expectations: a new channel at zero, and a pure reordering. */
    List<Init> exact() {
        if (channels == 3) {
            return List.of(Init.rgb("--to RGBY --init Y=0", range(3), "--to", "RGBY", "--init", "Y=0"),
                    Init.rgb("--from BGR --to RGB", new int[] {2, 1, 0}, "--from", "BGR", "--to", "RGB"));
        }
        List<Init> inits = new ArrayList<>(List.of(new Init("--to " + (channels + 1) + " --init zeros", range(channels),
                "--to", String.valueOf(channels + 1), "--init", "zeros")));
        if (channels > 1) {
            String from = String.join(",", IntStream.range(0, channels).mapToObj(i -> "c" + i).toList());
            String to = String.join(",", IntStream.range(0, channels).mapToObj(i -> "c" + (channels - 1 - i)).toList());
            inits.add(new Init("--from " + from + " --to " + to, IntStream.range(0, channels).map(i -> channels - 1 - i).toArray(),
                    "--from", from, "--to", to));
        }
        return inits;
    }

    /** A mixture (new channel = mean of the old ones) and a reduction to one channel: loading and finite outputs. */
    List<Init> common() {
        if (channels != 3) {
            String more = String.valueOf(channels + 1);
            return List.of(new Init("--to " + more + " --init mean", null, "--to", more, "--init", "mean"));
        }
        return List.of(rgby("mean"), Init.rgb("--to L --init L=0.299*R+0.587*G+0.114*B", null,
                "--to", "L", "--init", "L=0.299*R+0.587*G+0.114*B"));
    }

    /** Every other initialisation the suite uses (3-channel models). */
    List<Init> every() {
        List<Init> inits = new ArrayList<>(List.of(rgby("zeros"), Init.rgb("--to BGR", new int[] {2, 1, 0}, "--to", "BGR"),
                rgby("copy-last"), rgby("sum"), rgby("timm"), rgby("random"), rgby("Y=B"), rgby("Y=mean"),
                rgby("Y=0.5*R+0.5*G"), rgby("Y=0.25*R-G"), rgby("Y=random"), Init.rgb("--to RGBY (default)", null, "--to", "RGBY"),
                Init.rgb("--to L --init L=sum", null, "--to", "L", "--init", "L=sum"),
                Init.rgb("--to GB", null, "--to", "GB"),
                Init.rgb("--to 4 --init timm", null, "--to", "4", "--init", "timm"),
                Init.rgb("--to 1 --init timm", null, "--to", "1", "--init", "timm")));
        if (preprocessing) {
            inits.add(Init.rgb("--init Y=B --stats Y=mean:0.08,std:0.12", null, "--to", "RGBY", "--init", "Y=B",
                    "--stats", "Y=mean:0.08,std:0.12"));
        }
        return inits;
    }

    /** A file with optimizer state also without it. */
    List<Init> withoutOptimizer() {
        if (!optimizer) {
            return List.of();
        }
        Init zero = exact().get(0);
        List<String> args = new ArrayList<>(zero.args());
        args.add("--drop-optimizer");
        return List.of(new Init(zero.label() + " --drop-optimizer", args, zero.select()));
    }

    /** A separable first layer takes only rules that copy, scale or zero one old channel per new channel. */
    List<Init> copiesOnly() {
        return List.of(rgby("Y=B"), rgby("copy-last"), rgby("zeros"), Init.rgb("--to 4 --init timm", null, "--to", "4", "--init", "timm"),
                Init.rgb("--to GB", null, "--to", "GB"), Init.rgb("--to BGR", new int[] {2, 1, 0}, "--to", "BGR"));
    }

    private static Init rgby(String init) {
        return Init.rgb("--to RGBY --init " + init, init.equals("zeros") || init.equals("Y=0") ? range(3) : null,
                "--to", "RGBY", "--init", init);
    }

    private static int[] range(int n) {
        return IntStream.range(0, n).toArray();
    }
}
