package io.rechannel.transfer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.rechannel.Npy;
import io.rechannel.TestSupport;
import io.rechannel.transfer.TransferReport.Status;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transfers between frameworks, proven by outputs: one architecture (convolution, batch normalisation, depthwise
 * and pointwise convolutions, global pooling, dense) built in real Keras and in PyTorch with different random
 * weights ({@code transfer_ref.py}); after a transfer the target, run by its own framework, gives the pretrained
 * model's outputs. Keras runs in keras-ref, PyTorch loads its state dict with {@code torch.load(weights_only=True)}
 * and {@code strict=True}, ONNX models run in ONNX Runtime.
 */
class CrossFormatTransferTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final double TOLERANCE = 1e-5;

    @TempDir
    static Path made;

    @BeforeAll
    static void makeModels() throws Exception {
        Path ref = Path.of(System.getProperty("rechannel.keras-ref", "../shared/keras-ref")).toAbsolutePath().normalize();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")),
                "keras-ref (real Keras, which builds and runs the Keras models) is not at " + ref);
        TestSupport.require(Files.isExecutable(PYTHON) && TestSupport.run(List.of(PYTHON.toString(), "-c",
                "import torch, numpy, h5py, scipy, absl, rich, packaging")).exitCode() == 0,
                "Debian's python3-torch and keras-ref's python3 packages");
        python("keras-make", made.toString(), ref.toString());
        python("torch-make", made.toString());
    }

    @Test
    void kerasIntoPytorch(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("from_keras.pth");
        TransferReport report = transferAll("keras_pretrained.keras", "torch_template.pth", out);
        // PyTorch's batch counter has no Keras counterpart
        assertEquals(List.of("bn.num_batches_tracked"), report.tensors().stream()
                .filter(e -> e.status() == Status.MISSING).map(TransferReport.Entry::tensor).toList());
        assertClose(keras(made.resolve("keras_pretrained.keras"), dir), torch(out, dir));
        // into the same state dict as safetensors: the same values
        Path safetensors = dir.resolve("from_keras.safetensors");
        transferAll("keras_pretrained.keras", "torch_template.safetensors", safetensors);
        Tensors.of(safetensors).assertSameAs(Tensors.of(out));
    }

    @Test
    void pytorchIntoKeras(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("from_torch.h5");
        TransferReport report = transferAll("torch_pretrained.pth", "keras_template.h5", out);
        assertTrue(report.tensors().stream().allMatch(e -> "name".equals(e.matchedBy())), report.table());
        assertClose(torch(made.resolve("torch_pretrained.pth"), dir), keras(out, dir));
    }

    @Test
    void kerasIntoOnnxByOrder(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("from_keras.onnx");
        TransferReport report = transferAll("keras_pretrained.h5", "onnx_template.onnx", out);
        // the exported Sequential names its tensors 0.weight, 1.running_mean, ...: no name is Keras's
        assertTrue(report.tensors().stream().allMatch(e -> "order".equals(e.matchedBy())), report.table());
        assertClose(keras(made.resolve("keras_pretrained.h5"), dir), onnx(out));
    }

    @Test
    void onnxIntoKeras(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("from_onnx.keras");
        TransferReport report = transferAll("onnx_pretrained.onnx", "keras_template.keras", out);
        assertClose(onnx(made.resolve("onnx_pretrained.onnx")), keras(out, dir));
    }

    /** The target's own outputs differ from the pretrained model's: equal outputs come from the transfer. */
    @Test
    void theTemplatesDifferBeforeTheTransfer(@TempDir Path dir) throws Exception {
        double[] pretrained = keras(made.resolve("keras_pretrained.keras"), dir);
        double[] template = torch(made.resolve("torch_template.pth"), dir);
        double largest = 0;
        for (int i = 0; i < pretrained.length; i++) {
            largest = Math.max(largest, Math.abs(pretrained[i] - template[i]));
        }
        assertTrue(largest > 0.1, "the template already computes what the pretrained model computes: " + largest);
    }

    /** Transfers one made model into another: every tensor of the architecture is copied. */
    private static TransferReport transferAll(String from, String into, Path out) {
        TransferReport report = Transfer.run(TransferRequest.of(made.resolve(from), made.resolve(into), out));
        assertEquals(12, report.counts().get(Status.COPIED), report.table());
        return report;
    }

    private static double[] keras(Path model, Path dir) throws Exception {
        Path ref = Path.of(System.getProperty("rechannel.keras-ref", "../shared/keras-ref")).toAbsolutePath().normalize();
        Path y = Files.createTempFile(dir, "keras", ".npy");
        TestSupport.Run run = TestSupport.run(List.of(PYTHON.toString(), ref.resolve("keras_ref.py").toString(), "predict",
                model.toString(), made.resolve("x.npy").toString(), "-o", y.toString()));
        assertEquals(0, run.exitCode(), "Keras refused " + model + ": " + run.err());
        return Npy.read(y).values();
    }

    private static double[] torch(Path stateDict, Path dir) throws Exception {
        Path y = Files.createTempFile(dir, "torch", ".npy");
        python("torch-predict", stateDict.toString(), made.resolve("x.npy").toString(), y.toString());
        return Npy.read(y).values();
    }

    private static double[] onnx(Path model) throws Exception {
        Npy x = Npy.read(made.resolve("x.npy"));
        long[] nhwc = x.shape();
        double[] nchw = Layouts.permute(x.values(), nhwc, new int[] {0, 3, 1, 2});
        float[] data = new float[nchw.length];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) nchw[i];
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(data),
                     new long[] {nhwc[0], nhwc[3], nhwc[1], nhwc[2]});
             OrtSession.Result result = session.run(Map.of("x", input))) {
            FloatBuffer buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
            double[] values = new double[buffer.remaining()];
            for (int i = 0; i < values.length; i++) {
                values[i] = buffer.get(i);
            }
            return values;
        }
    }

    private static void assertClose(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "output sizes");
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1, Math.abs(expected[i]));
            assertEquals(expected[i], actual[i], TOLERANCE * scale, "output " + i);
        }
    }

    private static void python(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(),
                Path.of(CrossFormatTransferTest.class.getResource("transfer_ref.py").toURI()).toString()));
        command.addAll(List.of(args));
        TestSupport.Run run = TestSupport.run(command);
        assertEquals(0, run.exitCode(), "transfer_ref.py " + args[0] + ": " + run.err() + run.out());
    }
}
