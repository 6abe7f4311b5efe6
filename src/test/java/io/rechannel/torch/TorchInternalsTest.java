package io.rechannel.torch;

import io.rechannel.TestSupport;
import io.rechannel.core.RechannelException;
import io.rechannel.torch.PickleValues.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pieces under the torch.save format: zip layout, pickle rewriting, rounding. */
class TorchInternalsTest {

    @Test
    void recordsAreAlignedTo64BytesInTheSourceOrder(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("r.pth");
        assertEquals(0, cli("extend", fixture("timm/test_resnet.pth").toString(), "--to", "RGBY", "-o", out.toString()).exitCode());
        TorchZip before = TorchZip.open(fixture("timm/test_resnet.pth"));
        TorchZip after = TorchZip.open(out);
        assertEquals(before.records().stream().map(TorchZip.Record::name).toList(),
                after.records().stream().map(TorchZip.Record::name).toList());
        for (TorchZip.Record r : after.records()) {
            assertEquals(0, r.dataOffset() % TorchZipWriter.ALIGNMENT, r.name());
        }
    }

    @Test
    void zip64RecordsAreReadByPyTorchAndCommonsCompress(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("zip64.pth");
        TorchZipWriter.zip64Threshold = 1000;
        try {
            assertEquals(0, cli("extend", fixture("timm/test_resnet.pth").toString(), "--to", "RGBY", "-o", out.toString())
                    .exitCode());
        } finally {
            TorchZipWriter.zip64Threshold = 0xffffffffL;
        }
        assertEquals(0, cli("verify", fixture("timm/test_resnet.pth").toString(), out.toString()).exitCode());
        assertTrue(TorchRef.run("pth-check", out).contains("\"tensors\": 92"));
    }

    @Test
    void aRewrittenValueReplacesOnlyItsOwnOpcodes() {
        // ((3, 4),): the inner tuple stored in memo 0, never fetched
        byte[] pickle = {(byte) 0x80, 2, 'K', 3, 'K', 4, (byte) 0x86, 'q', 0, (byte) 0x85, '.'};
        SafePickle read = SafePickle.read(pickle, "test");
        Tuple outer = (Tuple) read.root;
        PickleRewriter rewriter = new PickleRewriter(read, "test");
        rewriter.replace(outer.spans().get(0), PickleRewriter.tuple(new long[] {5, 300, 70000, 1L << 40}), "the size");
        byte[] rewritten = rewriter.rewrite();
        Tuple again = (Tuple) SafePickle.read(rewritten, "test").root;
        assertEquals(List.of(5L, 300L, 70000L, 1L << 40), ((Tuple) again.items().get(0)).items());
        assertArrayEquals(new byte[] {'q', 0, (byte) 0x85, '.'},
                java.util.Arrays.copyOfRange(rewritten, rewritten.length - 4, rewritten.length));
    }

    @Test
    void aValueSharedThroughTheMemoIsNotRewritten() {
        // ((3, 4), (3, 4)): the second is a fetch of the first
        byte[] pickle = {(byte) 0x80, 2, 'K', 3, 'K', 4, (byte) 0x86, 'q', 0, 'h', 0, (byte) 0x86, '.'};
        SafePickle read = SafePickle.read(pickle, "test");
        PickleRewriter rewriter = new PickleRewriter(read, "test");
        RechannelException e = assertThrows(RechannelException.class,
                () -> rewriter.replace(((Tuple) read.root).spans().get(0), PickleRewriter.tuple(new long[] {1}), "the size"));
        assertEquals(RechannelException.Kind.UNSUPPORTED, e.kind());
        assertTrue(e.getMessage().contains("the size is shared with another value of the pickle (memo 0)"), e.getMessage());
    }

    @Test
    void protocolFourAndUnknownOpcodesAreRefused() {
        RechannelException four = assertThrows(RechannelException.class,
                () -> SafePickle.read(new byte[] {(byte) 0x80, 4, (byte) 0x95, 0, 0, 0, 0, 0, 0, 0, 0, '.'}, "f.pth"));
        assertTrue(four.getMessage().contains("pickle protocol 4"), four.getMessage());
        RechannelException build = assertThrows(RechannelException.class,
                () -> SafePickle.read(new byte[] {(byte) 0x80, 2, ']', '}', 'b', '.'}, "f.pth"));
        assertTrue(build.getMessage().contains("sets the state of a ArrayList"), build.getMessage());
    }

    @Test
    void bfloat16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, Dtype.toBfloat16(Float.intBitsToFloat(0x3f808000))); // halfway, even below
        assertEquals((short) 0x3f82, Dtype.toBfloat16(Float.intBitsToFloat(0x3f818000))); // halfway, even above
        assertEquals((short) 0x3f81, Dtype.toBfloat16(Float.intBitsToFloat(0x3f808001)));
        assertEquals(1.0, Dtype.BF16.decode(java.nio.ByteBuffer.wrap(Dtype.BF16.encode(new double[] {1.0})), 1)[0]);
    }

    @Test
    void aLinearFirstLayerIsMixedOnItsInputAxis(@TempDir Path dir) {
        Path out = dir.resolve("fc.safetensors");
        TestSupport.Run run = cli("extend", fixture("timm/test_resnet.safetensors").toString(), "--tensor", "fc.weight",
                "--to", "98", "--init", "mean", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("fc.weight [1000, 96] -> [1000, 98] (mixed)"), run.out());
        assertTrue(run.out().contains("fc.weight weight: max |difference|") && run.out().contains(" ok"), run.out());
    }

    @Test
    void verifyFindsAChangedTensorOutsideTheInputLayer(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("a.safetensors");
        Path in = fixture("timm/test_resnet.safetensors");
        assertEquals(0, cli("extend", in.toString(), "--to", "RGBY", "--init", "Y=0", "-o", out.toString()).exitCode());
        SafetensorsFile st = SafetensorsFile.read(out);
        SafetensorsFile.Entry fc = st.entry("fc.bias");
        try (var channel = java.nio.channels.FileChannel.open(out, java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), st.dataStart() + fc.begin());
        }
        TestSupport.Run run = cli("verify", in.toString(), out.toString(), "--to", "RGBY", "--init", "Y=0");
        assertEquals(7, run.exitCode(), run.out());
        assertTrue(run.out().contains("problem: " + out + ": 'fc.bias' differs from the original"), run.out());
        run = cli("verify", in.toString(), out.toString(), "--to", "RGBY", "--init", "Y=B");
        assertEquals(7, run.exitCode(), run.out());
        assertTrue(run.out().contains("conv1.0.weight weight: max |difference|") && run.out().contains("FAILED"), run.out());
    }
}
