package io.rechannel.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin\rechannel.cmd, read rather than run (no cmd.exe here): it must start the JVM as bin/rechannel does — the
 * same jar, the same JVM options where they apply, the same crash containment and its one-line message — and
 * be a batch file Windows reads (CRLF line ends, kept so by .gitattributes).
 */
class WindowsLauncherTest {

    private static String sh;
    private static String cmd;
    private static String javaLine;

    @BeforeAll
    static void read() throws Exception {
        sh = Files.readString(Path.of("bin/rechannel"));
        cmd = new String(Files.readAllBytes(Path.of("bin/rechannel.cmd")), StandardCharsets.US_ASCII);
        javaLine = cmd.lines().filter(line -> line.startsWith("\"%JAVA%\" ")).findFirst().orElse("");
    }

    @Test
    void everyLineEndsInCrLf() {
        assertEquals(cmd.split("\n", -1).length - 1, cmd.split("\r\n", -1).length - 1, "lines ending in a bare LF");
        assertTrue(!cmd.contains("\r\r"), "no doubled CR");
    }

    @Test
    void itRunsTheLaunchersJarWithItsOptions() {
        Matcher jar = Pattern.compile("target/(rechannel-[^\"/]+\\.jar)").matcher(sh);
        assertTrue(jar.find());
        assertTrue(cmd.contains("set \"JAR=%~dp0..\\target\\" + jar.group(1) + "\""), "the same jar");
        Matcher opts = Pattern.compile("(?m)^opts=\"([^\"]+)\"").matcher(sh);
        assertTrue(opts.find(), "bin/rechannel's JVM options");
        List<String> options = Arrays.stream(opts.group(1).split(" ")).filter(o -> !o.startsWith("-Xlog:cds")).toList();
        assertTrue(options.size() >= 4, options.toString());
        for (String option : options) {
            assertTrue(javaLine.contains(" " + option + " "), option + " in: " + javaLine);
        }
        for (String part : List.of(" %CRASH% -XX:-CreateCoredumpOnCrash ", " \"-XX:ErrorFile=%TEMP%\\rechannel_hs_err_pid%%p.log\" ",
                " %RECHANNEL_JAVA_OPTS% -jar \"%JAR%\" %*")) {
            assertTrue(javaLine.contains(part), part + " in: " + javaLine);
        }
        assertTrue(sh.contains("crash=\"-XX:+SuppressFatalErrorMessage\"") && cmd.contains("set \"CRASH=-XX:+SuppressFatalErrorMessage\""));
    }

    @Test
    void javaComesFromJavaHomeOrThePath() {
        assertTrue(cmd.contains("set \"JAVA=%JAVA_HOME%\\bin\\java.exe\""), cmd);
        assertTrue(cmd.contains("where java >nul 2>nul && goto :java_found"), cmd);
    }

    /** A crash ends as bin/rechannel ends it: the same words, the same JSON fields, exit 4, the run record read. */
    @Test
    void aCrashIsTheSameOneLine() {
        String words = "; the file is probably damaged; no output was written";
        assertTrue(sh.contains("the native library crashed while reading ${reading:-the model}" + words));
        assertTrue(cmd.contains("the native library crashed while reading %READING%" + words));
        assertTrue(cmd.contains("{\"error\":\"%MESSAGE%\",\"kind\":\"malformed_file\",\"exitCode\":4}"));
        assertTrue(sh.contains("{\"error\":\"%s\",\"kind\":\"malformed_file\",\"exitCode\":4}"));
        assertTrue(cmd.contains("set \"RECHANNEL_RUN_RECORD=%TEMP%\\rechannel-"), "the record the JVM writes");
        assertTrue(cmd.contains("if \"%%A\"==\"reading\"") && cmd.contains("if \"%%A\"==\"part\""), "its two kinds of line");
        assertTrue(cmd.contains("set \"STATUS=4\""));
    }
}
