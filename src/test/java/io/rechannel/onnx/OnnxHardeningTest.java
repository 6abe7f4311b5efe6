package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.onnx.OnnxModels.conv;
import static io.rechannel.onnx.OnnxModels.editInitializer;
import static io.rechannel.onnx.OnnxModels.externalW;
import static io.rechannel.onnx.OnnxModels.gemm;
import static io.rechannel.onnx.OnnxModels.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crafted ONNX files, each broken in one way: rechannel reads only the model's own files, and refuses
 * damaged or inconsistent ones with one line naming the file and the part at fault, leaving nothing.
 */
class OnnxHardeningTest {

    /** Writes a model (and whatever else it needs) into its own folder and returns the model file. */
    @FunctionalInterface
    interface Setup {
        Path make(Path dir) throws Exception;
    }

    private static Arguments refused(String name, int exitCode, String fragment, Setup setup) {
        return Arguments.of(name, exitCode, fragment, setup);
    }

    private static final long TWO_TO_40 = 1L << 40;

    static Stream<Arguments> refusals() {
        return Stream.of(
                // S1: external data confined to the model's folder
                refused("location escapes with ../", 4, "location '../../../../../../etc/passwd' points outside the model's folder",
                        dir -> write(externalW(conv(), dir, null, "../../../../../../etc/passwd", null, null), dir.resolve("m.onnx"))),
                refused("absolute location", 4, "location '/etc/passwd' points outside the model's folder",
                        dir -> write(externalW(conv(), dir, null, "/etc/passwd", null, null), dir.resolve("m.onnx"))),
                refused("symlink out of the folder", 4, "location 'w.data' is a link to",
                        dir -> {
                            Path outside = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-outside"));
                            Path secret = Files.write(outside.resolve("secret"), OnnxModels.randomFloats(108, 1));
                            Files.createSymbolicLink(dir.resolve("w.data"), secret);
                            return write(externalW(conv(), dir, null, "w.data", "0", "432"), dir.resolve("m.onnx"));
                        }),
                refused("symlink to a device", 4, "location 'zero' is a link to /dev/zero",
                        dir -> {
                            Files.createSymbolicLink(dir.resolve("zero"), Path.of("/dev/zero"));
                            return write(externalW(conv(), dir, null, "zero", "0", "432"), dir.resolve("m.onnx"));
                        }),
                refused("location is a folder", 4, "location 'sub' is a folder",
                        dir -> {
                            Files.createDirectory(dir.resolve("sub"));
                            return write(externalW(conv(), dir, null, "sub", null, null), dir.resolve("m.onnx"));
                        }),
                refused("location is a named pipe (no hang)", 4, "location 'pipe' is not a regular file",
                        dir -> {
                            Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("pipe").toString()).start();
                            assertEquals(0, mkfifo.waitFor());
                            return write(externalW(conv(), dir, null, "pipe", "0", "432"), dir.resolve("m.onnx"));
                        }),
                refused("external location missing", 4, "initializer 'W' is stored externally but names no location",
                        dir -> write(externalW(conv(), dir, "w.data", null, "0", "432"), dir.resolve("m.onnx"))),
                // external offset and length
                refused("external length negative", 4, "length '-4' is not a non-negative whole number",
                        dir -> write(externalW(conv(), dir, "w.data", "w.data", "0", "-4"), dir.resolve("m.onnx"))),
                refused("external offset not a number", 4, "offset '12abc' is not a non-negative whole number",
                        dir -> write(externalW(conv(), dir, "w.data", "w.data", "12abc", "432"), dir.resolve("m.onnx"))),
                refused("external offset past the end", 4, "offset 4096 and length 432 reach past the end of the data file (432 bytes)",
                        dir -> write(externalW(conv(), dir, "w.data", "w.data", "4096", "432"), dir.resolve("m.onnx"))),
                refused("external length past the end", 4, "offset 8 and length 432 reach past the end of the data file (432 bytes)",
                        dir -> write(externalW(conv(), dir, "w.data", "w.data", "8", "432"), dir.resolve("m.onnx"))),
                refused("external length not the tensor's size", 4, "holds 400 bytes, but dims [4, 3, 3, 3] of data type 1 need 432",
                        dir -> write(externalW(conv(), dir, "w.data", "w.data", "0", "400"), dir.resolve("m.onnx"))),
                refused("external and inline values at once", 4, "initializer 'W' is stored externally and holds values in the file too",
                        dir -> write(editInitializer(externalW(conv(), dir, "w.data", "w.data", "0", "432"), "W",
                                t -> t.addFloatData(1)), dir.resolve("m.onnx"))),
                // shapes against stored values
                refused("negative dimension", 4, "initializer 'W' has a negative dimension in dims [4, -3, 3, 3]",
                        dir -> write(editInitializer(conv(), "W", t -> t.setDims(1, -3)), dir.resolve("m.onnx"))),
                refused("dimension product overflows", 4, "initializer 'W' has dims [1099511627776, 1099511627776, 3, 3] whose element count overflows",
                        dir -> write(editInitializer(conv(), "W", t -> t.setDims(0, TWO_TO_40).setDims(1, TWO_TO_40)),
                                dir.resolve("m.onnx"))),
                refused("raw_data shorter than dims", 4, "initializer 'W' holds 428 bytes of raw_data, but dims [4, 3, 3, 3] of data type 1 need 432",
                        dir -> write(editInitializer(conv(), "W", t -> t.setRawData(t.getRawData().substring(4))), dir.resolve("m.onnx"))),
                refused("raw_data longer than dims", 4, "initializer 'W' holds 436 bytes of raw_data, but dims [4, 3, 3, 3] of data type 1 need 432",
                        dir -> write(editInitializer(conv(), "W", t -> t.setRawData(t.getRawData().concat(ByteString.copyFrom(new byte[4])))),
                                dir.resolve("m.onnx"))),
                refused("float_data of the wrong count", 4, "initializer 'W' holds 107 values in float_data, but dims [4, 3, 3, 3] need 108",
                        dir -> write(editInitializer(conv(), "W", t -> t.clearRawData().addAllFloatData(floats(107))), dir.resolve("m.onnx"))),
                refused("values in the wrong typed field", 4, "initializer 'W' of data type 1 holds its values in double_data, not float_data",
                        dir -> write(editInitializer(conv(), "W", t -> {
                            t.clearRawData();
                            for (int i = 0; i < 108; i++) {
                                t.addDoubleData(i);
                            }
                        }), dir.resolve("m.onnx"))),
                refused("values in two fields", 4, "initializer 'W' holds values in 2 fields; ONNX allows one",
                        dir -> write(editInitializer(conv(), "W", t -> t.addAllFloatData(floats(108))), dir.resolve("m.onnx"))),
                refused("no values at all", 4, "initializer 'B' holds no values for dims [4]",
                        dir -> write(editInitializer(conv(), "B", t -> t.clearRawData()), dir.resolve("m.onnx"))),
                refused("two initializers of one name", 4, "two initializers are named 'W'",
                        dir -> {
                            OnnxMl.ModelProto.Builder m = conv();
                            m.getGraphBuilder().addInitializer(OnnxModels.floats("W", OnnxModels.W_DIMS));
                            return write(m, dir.resolve("m.onnx"));
                        }),
                // the graph
                refused("Conv weight names no tensor", 4, "node 'conv' reads 'W_missing', which no node, graph input or initializer defines",
                        dir -> write(nodes(conv(), node("conv", "Conv", List.of("x", "W_missing", "B"), "y")), dir.resolve("m.onnx"))),
                refused("cycle", 4, "the graph has a cycle: 'relu' -> 'add' -> 'relu'",
                        dir -> write(nodes(conv(), node("conv", "Conv", List.of("x", "W", "B"), "c"),
                                node("add", "Add", List.of("c", "d"), "y"), node("relu", "Relu", List.of("y"), "d")), dir.resolve("m.onnx"))),
                refused("self-loop", 4, "node 'add' reads its own output 'y' (a cycle)",
                        dir -> write(nodes(conv(), node("conv", "Conv", List.of("x", "W", "B"), "c"),
                                node("add", "Add", List.of("c", "y"), "y")), dir.resolve("m.onnx"))),
                refused("nodes out of order", 4, "node 'relu' reads 'c' before node 'conv' produces it; ONNX requires nodes in topological order",
                        dir -> write(nodes(conv(), node("relu", "Relu", List.of("c"), "y"),
                                node("conv", "Conv", List.of("x", "W", "B"), "c")), dir.resolve("m.onnx"))),
                refused("two nodes produce one name", 4, "nodes 'conv' and 'relu' both produce 'y'",
                        dir -> write(nodes(conv(), node("conv", "Conv", List.of("x", "W", "B"), "y"),
                                node("relu", "Relu", List.of("x"), "y")), dir.resolve("m.onnx"))),
                refused("node output named like an initializer", 4, "node 'relu' produces 'B', which is already a graph input or initializer",
                        dir -> write(nodes(conv(), node("conv", "Conv", List.of("x", "W", "B"), "y"),
                                node("relu", "Relu", List.of("y"), "B")), dir.resolve("m.onnx"))),
                refused("Identity without an output", 4, "node 'alias' (Identity) has 0 outputs; the operator has one",
                        dir -> write(nodes(conv(), OnnxMl.NodeProto.newBuilder().setName("alias").setOpType("Identity")
                                .addInput("W").build(), node("conv", "Conv", List.of("x", "W", "B"), "y")), dir.resolve("m.onnx"))),
                refused("graph output nobody produces", 4, "graph output 'z' is not produced by any node, input or initializer",
                        dir -> {
                            OnnxMl.ModelProto.Builder m = conv();
                            m.getGraphBuilder().addOutput(OnnxModels.value("z", 1));
                            return write(m, dir.resolve("m.onnx"));
                        }),
                refused("two graphs", 4, "holds two graphs",
                        dir -> {
                            byte[] model = conv().build().toByteArray();
                            byte[] graph = conv().build().getGraph().toByteArray();
                            byte[] second = OnnxMl.ModelProto.newBuilder().setGraph(OnnxMl.GraphProto.parseFrom(graph)).build().toByteArray();
                            byte[] both = Arrays.copyOf(model, model.length + second.length);
                            System.arraycopy(second, 0, both, model.length, second.length);
                            return Files.write(dir.resolve("m.onnx"), both);
                        }),
                refused("graph length past the end of the file", 4, "not an ONNX model (damaged or truncated protobuf",
                        dir -> Files.write(dir.resolve("m.onnx"), longerGraph(conv().build().toByteArray()))),
                // kernels
                refused("Conv kernel of rank 1", 4, "node 'conv' (Conv) weight 'W' has dims [108]; Conv needs a weight of rank 3 or more",
                        dir -> write(editInitializer(conv(), "W", t -> t.clearDims().addDims(108)), dir.resolve("m.onnx"))),
                refused("Conv kernel of rank 0", 4, "node 'conv' (Conv) weight 'W' has dims []; Conv needs a weight of rank 3 or more",
                        dir -> write(editInitializer(conv(), "W", t -> t.clearDims().setRawData(t.getRawData().substring(0, 4))),
                                dir.resolve("m.onnx"))),
                refused("Conv kernel with an empty axis", 4, "node 'conv' (Conv) weight 'W' has dims [0, 3, 3, 3], an empty axis",
                        dir -> write(editInitializer(conv(), "W", t -> t.setDims(0, 0).setRawData(ByteString.EMPTY)), dir.resolve("m.onnx"))),
                refused("Gemm kernel of rank 1", 4, "node 'dense' (Gemm) weight 'G' has dims [3]; Gemm needs a weight of rank 2",
                        dir -> write(editInitializer(gemm(), "G", t -> t.clearDims().addDims(3)
                                .setRawData(t.getRawData().substring(0, 12))), dir.resolve("m.onnx"))),
                refused("Gemm kernel with an empty axis", 4, "node 'dense' (Gemm) weight 'G' has dims [3, 0], an empty axis",
                        dir -> write(editInitializer(gemm(), "G", t -> t.setDims(1, 0).setRawData(ByteString.EMPTY)), dir.resolve("m.onnx"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusedWithOneLineNamingTheFile(String name, int exitCode, String fragment, Setup setup, @TempDir Path dir)
            throws Exception {
        Path model = setup.make(Files.createDirectories(dir.resolve("model")));
        Path out = Files.createDirectories(dir.resolve("out"));
        String before = TestSupport.sha256(model);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", out.resolve("o.onnx").toString(), "--verify");
        assertEquals(exitCode, run.exitCode(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("rechannel: " + model + ": "), run.err());
        assertTrue(run.err().contains(fragment), run.err());
        assertEquals(before, TestSupport.sha256(model), "input unchanged");
        try (Stream<Path> left = Files.list(out)) {
            assertEquals(List.of(), left.toList(), "nothing written");
        }
    }

    @Test
    void dataInsideTheFolderIsRead(@TempDir Path dir) throws Exception {
        Path models = Files.createDirectories(dir.resolve("model"));
        Files.createDirectories(models.resolve("weights"));
        Path inSub = write(externalW(conv(), models, "weights/w.bin", "weights/w.bin", "0", "432"), models.resolve("sub.onnx"));
        Files.createSymbolicLink(models.resolve("link.data"), models.resolve("weights/w.bin"));
        Path viaLink = write(externalW(conv(), models, null, "link.data", null, null), models.resolve("link.onnx"));
        for (Path model : List.of(inSub, viaLink)) {
            Path out = dir.resolve("out-" + model.getFileName());
            TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", out.toString(), "--verify");
            assertEquals(0, run.exitCode(), run.out() + run.err());
            assertTrue(run.out().contains("(whole model, ONNX Runtime) outputs"), run.out());
        }
    }

    /** A declared input too large to feed whole is not allocated (it would end in an out-of-memory crash). */
    @Test
    void hugeDeclaredInputSkipsOnlyTheWholeModelCheck(@TempDir Path dir) throws Exception {
        OnnxMl.ModelProto.Builder m = conv();
        m.getGraphBuilder().setInput(0, OnnxModels.value("x", 1, 3, 100_000, 100_000));
        Path model = write(m, dir.resolve("huge.onnx"));
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("the whole-model check was skipped: input 'x' declares more than 2097152 values"), run.out());
        assertTrue(run.out().contains("conv W: max |difference|"), run.out());
    }

    /** The output's data file is a new file with the output's own mode, not a copy of the source's mode. */
    @Test
    void outputDataFileIsAnOrdinaryNewFile(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.onnx");
        OnnxMl.ModelProto.Builder m = conv();
        editInitializer(m, "B", t -> {
            byte[] raw = t.getRawData().toByteArray();
            t.clearRawData().setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue("m.onnx.data"));
            try {
                Files.write(dir.resolve("m.onnx.data"), raw);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        write(m, model);
        Files.setPosixFilePermissions(dir.resolve("m.onnx.data"), PosixFilePermissions.fromString("rw-------"));
        Path out = dir.resolve("o.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("o.onnx.data"))));
        assertEquals(Files.getPosixFilePermissions(out), Files.getPosixFilePermissions(dir.resolve("o.onnx.data")));
    }

    /**
     * ONNX Runtime's own log lines (coloured warnings on the process's stderr, out of Java's reach) stay
     * off during verify; its errors still come out as rechannel's one line.
     */
    @Test
    void onnxRuntimeLogsNothingButErrorsAreReported(@TempDir Path dir) throws Exception {
        OnnxMl.ModelProto.Builder unused = conv();
        unused.getGraphBuilder().addInitializer(OnnxModels.floats("unused", 5)); // ONNX Runtime warns of it
        Path model = write(unused, dir.resolve("unused.onnx"));
        TestSupport.Run run = java("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals("", run.err());

        Path foreign = write(nodes(conv(), node("conv", "Conv", List.of("x", "W", "B"), "c"), node("foo", "NoSuchOp", List.of("c"), "y")),
                dir.resolve("foreign.onnx"));
        TestSupport.Run failed = java("extend", foreign.toString(), "--to", "RGBY", "-o", dir.resolve("f.onnx").toString(), "--verify");
        assertEquals(7, failed.exitCode(), failed.out() + failed.err());
        assertEquals(1, failed.err().lines().count(), failed.err());
        assertTrue(failed.err().contains("ONNX Runtime cannot run the model") && failed.err().contains("NoSuchOp"), failed.err());
        assertFalse(failed.err().contains("\u001b["), "no terminal colours: " + failed.err());
    }

    /** rechannel in a JVM of its own, so that native output to the process's stderr is seen. */
    private static TestSupport.Run java(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.rechannel.cli.Main"));
        command.addAll(List.of(args));
        return TestSupport.run(command);
    }

    private static List<Float> floats(int count) {
        Float[] values = new Float[count];
        Arrays.fill(values, 0.5f);
        return Arrays.asList(values);
    }

    private static OnnxMl.NodeProto node(String name, String op, List<String> inputs, String output) {
        return OnnxMl.NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addOutput(output).build();
    }

    private static OnnxMl.ModelProto.Builder nodes(OnnxMl.ModelProto.Builder model, OnnxMl.NodeProto... nodes) {
        model.getGraphBuilder().clearNode().addAllNode(List.of(nodes));
        return model;
    }

    /** The model with its graph's length prefix grown by 1000 (a varint corrupted to claim more than the file has). */
    private static byte[] longerGraph(byte[] model) throws Exception {
        int length = OnnxMl.ModelProto.parseFrom(model).getGraph().getSerializedSize();
        CodedInputStream in = CodedInputStream.newInstance(model);
        for (int tag = in.readTag(); WireFormat.getTagFieldNumber(tag) != 7; tag = in.readTag()) {
            in.skipField(tag);
        }
        int prefix = in.getTotalBytesRead();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(model, 0, prefix);
        CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
        coded.writeUInt32NoTag(length + 1000);
        coded.flush();
        int rest = prefix + CodedOutputStream.computeUInt32SizeNoTag(length);
        bytes.write(model, rest, model.length - rest);
        return bytes.toByteArray();
    }
}
