package io.rechannel.keras;

import io.rechannel.TestSupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs mutated copies of a model through rechannel in batches, each batch in a {@link ForkedJvm} running
 * {@link FuzzBatch}, each copy alone in its own folder, and checks what the project promises of any input:
 * a documented exit code, one line naming the file and no stack trace on failure, the input unchanged,
 * nothing left behind (in its folder or the temporary folder), no crash, and an end within a time limit.
 * A failing input is saved under {@code target/fuzz-failures/} to be replayed.
 *
 * <p>How many inputs and how much time each reader gets: see {@link FuzzBudget}.
 */
final class FuzzHarness {

    private static final Set<Integer> DOCUMENTED = Set.of(0, 2, 3, 4, 5, 6, 7);
    private static final Duration PER_INPUT = Duration.ofSeconds(Long.getLong("rechannel.fuzz.inputSeconds", 60));

    /**
     * How often each command ended with each code (and, with {@code -Drechannel.fuzz.messages}, each
     * kind of message, in {@code target/fuzz-outcomes.txt}): what the inputs reached.
     */
    private static final Map<String, Integer> OUTCOMES = new ConcurrentSkipListMap<>();
    private static final boolean MESSAGES = System.getProperty("rechannel.fuzz.messages") != null;

    private final String fileName;
    private final byte[] base;

    FuzzHarness(String fileName, byte[] base) {
        this.fileName = fileName;
        this.base = base;
    }

    /** What one command did with one input. */
    record Outcome(String command, int exitCode, String err) {
    }

    /**
     * Checks one batch of inputs, made by applying each list of mutations to the base file; returns what
     * each command did with each input.
     */
    List<List<Outcome>> check(List<List<Mutations.Mutation>> cases) throws Exception {
        if (FuzzBudget.spent()) {
            return List.of(); // the time for this reader is spent; the remaining tries do nothing
        }
        Path root = Files.createTempDirectory("rechannel-fuzz");
        try {
            return run(root, cases);
        } finally {
            deleteTree(root);
            System.out.println("fuzz outcomes so far: " + OUTCOMES.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(fileName)).toList());
            if (MESSAGES) {
                Files.write(Path.of("target", "fuzz-outcomes.txt"),
                        OUTCOMES.entrySet().stream().map(e -> e.getValue() + "\t" + e.getKey().strip()).toList());
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private List<List<Outcome>> run(Path dir, List<List<Mutations.Mutation>> cases) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        List<Path> inputs = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Path input = Files.createDirectories(dir.resolve("in" + i)).resolve(fileName);
            Files.write(input, Mutations.apply(cases.get(i), base));
            inputs.add(input);
            hashes.add(TestSupport.sha256(input));
        }
        Path stderr = dir.resolve("stderr.txt");
        Process process = ForkedJvm.start(FuzzBatch.class, tmp, stderr, inputs.stream().map(Path::toString).toList());
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            } finally {
                lines.add("EOF");
            }
        });
        reader.start();
        List<String> failures = new ArrayList<>();
        List<List<Outcome>> outcomes = new ArrayList<>();
        try {
            for (int i = 0; i < cases.size(); i++) {
                outcomes.add(new ArrayList<>());
                String problem = follow(i, lines, inputs.get(i), hashes.get(i), tmp, outcomes.get(i));
                if (problem != null) {
                    if (problem.startsWith("the JVM ended")) {
                        for (int k = 0; k < i; k++) {
                            save(cases.get(k), inputs.get(k), "ran before it in the same JVM");
                        }
                        problem += "; exit status " + process.waitFor();
                    }
                    failures.add(save(cases.get(i), inputs.get(i), problem));
                    if (!process.isAlive() || problem.startsWith("no end")) {
                        break;
                    }
                }
            }
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        return outcomes;
    }

    /** Follows input {@code i} from START to DONE; returns what went wrong, or null. */
    private String follow(int i, BlockingQueue<String> lines, Path input, String hash, Path tmp, List<Outcome> outcomes)
            throws Exception {
        long end = System.nanoTime() + PER_INPUT.toNanos();
        boolean extended = false;
        List<String> problems = new ArrayList<>();
        while (true) {
            String line = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                return "no end within " + PER_INPUT.toSeconds() + " s (a hang?)";
            }
            if (line.equals("EOF")) {
                return "the JVM ended without finishing it (a native crash?): " + crashReport(tmp, tmp.resolveSibling("stderr.txt"));
            }
            String[] parts = line.split(" ", 5);
            if (parts[0].equals("RUN") && Integer.parseInt(parts[1]) == i) {
                int code = Integer.parseInt(parts[3]);
                String err = parts.length > 4 ? new String(Base64.getDecoder().decode(parts[4]), StandardCharsets.UTF_8) : "";
                extended |= parts[2].equals("extend") && code == 0;
                outcomes.add(new Outcome(parts[2], code, err));
                OUTCOMES.merge(fileName + " " + parts[2] + " exit " + code, 1, Integer::sum);
                if (MESSAGES && code != 0) {
                    OUTCOMES.merge(err.replaceAll("[0-9]+", "N").replaceAll("/tmp/[^:]*/", ""), 1, Integer::sum);
                }
                String wrong = judge(parts[2], code, err);
                if (wrong != null) {
                    problems.add(wrong);
                }
            } else if (parts[0].equals("TMP")) {
                problems.add("left in the temporary folder: " + line.substring(line.indexOf(' ', 4) + 1));
            } else if (parts[0].equals("DONE") && Integer.parseInt(parts[1]) == i) {
                break;
            }
        }
        if (!hash.equals(TestSupport.sha256(input))) {
            problems.add("the input changed");
        }
        // a Keras output comes with its input contract (OUT.input.json), committed with it
        Set<String> expected = new TreeSet<>(extended ? List.of(fileName, adaptedName(), adaptedName() + ".input.json")
                : List.of(fileName));
        Set<String> present = new TreeSet<>();
        try (Stream<Path> files = Files.list(input.getParent())) {
            files.forEach(p -> present.add(p.getFileName().toString()));
        }
        if (!present.equals(expected)) {
            problems.add("its folder holds " + present + ", expected " + expected);
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private String adaptedName() {
        return "out" + fileName.substring(fileName.indexOf('.'));
    }

    private String judge(String command, int code, String err) {
        if (!DOCUMENTED.contains(code)) {
            return command + " exit " + code + ": " + err.strip();
        }
        if (code == 0) {
            return null;
        }
        if (command.equals("verify") && code != 7 && err.contains(adaptedName())) {
            return "verify exit " + code + ": rechannel wrote an output it cannot read back: " + err.strip();
        }
        String named = command.equals("verify") ? fileName + "|" + adaptedName() : fileName;
        boolean namesFile = err.contains(fileName) || command.equals("verify") && err.contains(adaptedName());
        if (err.lines().count() != 1 || !err.startsWith("rechannel: ") || err.contains("\tat ") || err.contains(".part")
                || err.contains("internal error") || !namesFile) {
            return command + " exit " + code + " without one clean line naming " + named + ": " + err.strip();
        }
        return null;
    }

    /** The JVM's crash report's first native frames, or else the end of the process's stderr (glibc's abort message). */
    private static String crashReport(Path tmp, Path stderr) throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList()) {
                return Files.readAllLines(p).stream().filter(l -> l.startsWith("# C ") || l.startsWith("# Problematic")
                        || l.startsWith("C  [")).limit(4).toList().toString();
            }
        }
        String err = Files.exists(stderr) ? Files.readString(stderr) : "";
        return "no crash report; stderr ends: " + err.substring(Math.max(0, err.length() - 400)).strip();
    }

    /** Keeps a failing input under target/fuzz-failures for replay; returns the failure's description. */
    private String save(List<Mutations.Mutation> mutations, Path input, String problem) throws Exception {
        Path failures = Files.createDirectories(Path.of("target", "fuzz-failures"));
        Path kept = failures.resolve(TestSupport.sha256(input).substring(0, 12) + "-" + fileName);
        Files.copy(input, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return kept + " " + mutations + ": " + problem;
    }
}
