package io.rechannel;

import io.rechannel.core.AdaptOptions;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * verify makes the same checks, and reports them alike, for every format: a kept channel's per-channel constant
 * that changed is a problem (also in a byte-input ONNX model, where ONNX Runtime cannot run), and a map whose
 * channel count is not the adapted model's is a problem reported, not a failure of the run.
 */
class VerifyParityTest {

    /** A model with per-channel constants in front of its first layer, and a way to change one value in a copy. */
    private interface Model {
        Path make(Path dir) throws Exception;

        /** Sets the kept channel G's constant (the mean) to {@code value} in an adapted copy. */
        void tamper(Path adapted, double value) throws Exception;
    }

    private static final String KERAS_MEAN = "/model_weights/normalization/normalization/mean";

    private static final Model KERAS = new Model() {
        @Override
        public Path make(Path dir) throws Exception {
            return Files.copy(TestSupport.fixture("keras/tiny_effnet.h5"), dir.resolve("effnet.h5"));
        }

        @Override
        public void tamper(Path adapted, double value) {
            try (Hdf5File h5 = Hdf5File.open(adapted, true)) {
                double[] mean = h5.readDoubles(KERAS_MEAN);
                mean[1] = value;
                h5.replaceDataset(KERAS_MEAN, h5.dataset(KERAS_MEAN).shape(), mean);
            }
        }
    };

    private static final Model ONNX_BYTES = new Model() {
        @Override
        public Path make(Path dir) throws Exception {
            Path out = dir.resolve("bytes.onnx");
            TestSupport.python(Files.readString(TestSupport.resource("make_onnx.py")), "uint8_normalised", out.toString());
            return out;
        }

        @Override
        public void tamper(Path adapted, double value) throws Exception {
            TestSupport.python(String.join("\n",
                    "import sys, onnx",
                    "from onnx import numpy_helper",
                    "m = onnx.load(sys.argv[1])",
                    "t = [t for t in m.graph.initializer if t.name == 'mean'][0]",
                    "a = numpy_helper.to_array(t).copy(); a[0, 1, 0, 0] = float(sys.argv[2])",
                    "t.CopyFrom(numpy_helper.from_array(a, 'mean'))",
                    "onnx.save(m, sys.argv[1])"), adapted.toString(), String.valueOf(value));
        }
    };

    /** A safetensors state dict written by a plain reader's rules (header length, JSON, little-endian data). */
    private static final String SAFETENSORS = String.join("\n",
            "import json, struct, sys",
            "import numpy as np",
            "def read(path):",
            "    raw = open(path, 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]",
            "    return json.loads(raw[8:8 + n]), bytearray(raw), 8 + n",
            "if sys.argv[1] == 'make':",
            "    rng = np.random.default_rng(3)",
            "    tensors = {'conv1.weight': rng.standard_normal((8, 3, 3, 3)).astype('<f4'),",
            "               'pixel_mean': np.array([123.7, 116.3, 103.5], '<f4'), 'pixel_std': np.array([58.4, 57.1, 57.4], '<f4'),",
            "               'fc.weight': rng.standard_normal((2, 8)).astype('<f4')}",
            "    header, data, at = {}, b'', 0",
            "    for name, a in tensors.items():",
            "        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [at, at + a.nbytes]}",
            "        data += a.tobytes(); at += a.nbytes",
            "    text = json.dumps(header).encode(); text += b' ' * (-len(text) % 8)",
            "    open(sys.argv[2], 'wb').write(struct.pack('<Q', len(text)) + text + data)",
            "else:",
            "    header, raw, base = read(sys.argv[2])",
            "    start = base + header['pixel_mean']['data_offsets'][0] + 4",
            "    raw[start:start + 4] = struct.pack('<f', float(sys.argv[3]))",
            "    open(sys.argv[2], 'wb').write(bytes(raw))");

    private static final Model STATE_DICT = new Model() {
        @Override
        public Path make(Path dir) throws Exception {
            Path out = dir.resolve("model.safetensors");
            TestSupport.python(SAFETENSORS, "make", out.toString());
            return out;
        }

        @Override
        public void tamper(Path adapted, double value) throws Exception {
            TestSupport.python(SAFETENSORS, "tamper", adapted.toString(), String.valueOf(value));
        }
    };

    private static Stream<DynamicTest> forEachFormat(Path dir, Check check) {
        return Stream.of(List.of("keras", KERAS), List.of("onnx with a byte input", ONNX_BYTES),
                        List.of("safetensors", STATE_DICT))
                .map(named -> DynamicTest.dynamicTest((String) named.get(0), () -> {
                    Path folder = Files.createDirectory(dir.resolve(((String) named.get(0)).replace(' ', '_')));
                    Model model = (Model) named.get(1);
                    Path original = model.make(folder);
                    Path adapted = folder.resolve("rgby-" + original.getFileName());
                    Rechannel.extend(original, adapted, AdaptOptions.to("RGBY").init("Y=B"));
                    check.run(model, original, adapted);
                }));
    }

    private interface Check {
        void run(Model model, Path original, Path adapted) throws Exception;
    }

    @TestFactory
    Stream<DynamicTest> anExactAdaptationVerifies(@TempDir Path dir) {
        return forEachFormat(dir, (model, original, adapted) -> {
            VerifyResult proof = Rechannel.verify(original, adapted, AdaptOptions.to("RGBY").init("Y=B"));
            assertTrue(proof.passed(), proof.toString());
            assertEquals(List.of("R=R", "G=G", "B=B", "Y=B"), proof.map().rules());
        });
    }

    @TestFactory
    Stream<DynamicTest> aKeptChannelsChangedConstantIsAProblem(@TempDir Path dir) {
        return forEachFormat(dir, (model, original, adapted) -> {
            model.tamper(adapted, 99.5);
            for (AdaptOptions options : List.of(AdaptOptions.to("RGBY").init("Y=B"), AdaptOptions.defaults())) {
                VerifyResult proof = Rechannel.verify(original, adapted, options);
                assertFalse(proof.passed(), proof.toString());
                assertEquals(1, proof.problems().size(), proof.problems().toString());
                assertTrue(proof.problems().get(0).startsWith(adapted + ": "), proof.problems().toString());
                assertTrue(proof.problems().get(0).endsWith(": channel G should be " + originalMean(model) + ", is 99.5"),
                        proof.problems().toString());
            }
        });
    }

    /** The original mean of channel G, as the tests' models hold it (float32). */
    private static double originalMean(Model model) {
        return model == KERAS ? keptKerasMean() : (double) 116.3f;
    }

    private static double keptKerasMean() {
        try (Hdf5File h5 = Hdf5File.open(TestSupport.fixture("keras/tiny_effnet.h5"), false)) {
            return h5.readDoubles(KERAS_MEAN)[1];
        }
    }

    @TestFactory
    Stream<DynamicTest> aMapOfAnotherChannelCountIsAProblemReported(@TempDir Path dir) {
        return forEachFormat(dir, (model, original, adapted) -> {
            VerifyResult proof = Rechannel.verify(original, adapted, AdaptOptions.to("RGB"));
            assertFalse(proof.passed());
            assertEquals(adapted + ": its input has 4 channels; the map RGB -> RGB makes 3", proof.problems().get(0));
            assertNull(proof.map());
            assertEquals(List.of(), proof.layers());
        });
    }
}
