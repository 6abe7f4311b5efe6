package io.rechannel.torch;

import io.rechannel.TestSupport;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code extend --to N --init timm} on timm's state dicts gives, bit for bit, what timm's
 * {@code adapt_input_conv} gives (the fixtures {@code <model>.in<N>.timm_first_conv.safetensors}), from
 * safetensors and from torch.save files alike.
 */
class TimmStateDictParityTest {

    @ParameterizedTest(name = "{0}.{1} with {2} channels")
    @CsvSource({"test_resnet,safetensors,1", "test_resnet,safetensors,2", "test_resnet,safetensors,4",
        "test_resnet,safetensors,13", "test_efficientnet,safetensors,1", "test_efficientnet,safetensors,2",
        "test_efficientnet,safetensors,4", "test_efficientnet,safetensors,13", "test_vit,safetensors,1",
        "test_vit,safetensors,2", "test_vit,safetensors,4", "test_vit,safetensors,13",
        "test_resnet,pth,1", "test_resnet,pth,2", "test_resnet,pth,4", "test_resnet,pth,13"})
    void bitIdenticalToTimm(String model, String extension, int channels, @TempDir Path dir) throws Exception {
        Path out = dir.resolve(model + ".in" + channels + "." + extension);
        TestSupport.Run run = cli("extend", fixture("timm/" + model + "." + extension).toString(), "--to",
                String.valueOf(channels), "--init", "timm", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        try (SafetensorsStore reference = SafetensorsStore.open(fixture("timm/" + model + ".in" + channels
                + ".timm_first_conv.safetensors")); TensorStore ours = TorchFormat.open(out)) {
            NamedTensor expected = reference.tensors().get(0);
            NamedTensor actual = ours.tensors().stream().filter(t -> t.name().equals(expected.name())).findFirst().orElseThrow();
            assertArrayEquals(expected.shape(), actual.shape());
            assertEquals(expected.dtype(), actual.dtype());
            assertArrayEquals(bytes(reference.raw(expected).orElseThrow()), bytes(ours.raw(actual).orElseThrow()), expected.name());
        }
    }

    @ParameterizedTest(name = "{0} channels")
    @CsvSource({"1", "2", "4", "13"})
    void safetensorsAndPthGiveTheSameTensors(int channels, @TempDir Path dir) throws Exception {
        Path st = dir.resolve("a.safetensors");
        Path pth = dir.resolve("a.pth");
        for (Path out : new Path[] {st, pth}) {
            String in = out == st ? "timm/test_resnet.safetensors" : "timm/test_resnet.pth";
            assertEquals(0, cli("extend", fixture(in).toString(), "--to", String.valueOf(channels), "--init", "timm",
                    "-o", out.toString()).exitCode());
        }
        try (TensorStore a = TorchFormat.open(st); TensorStore b = TorchFormat.open(pth)) {
            assertEquals(a.tensors().size(), b.tensors().size());
            for (NamedTensor t : a.tensors()) {
                NamedTensor u = b.tensors().stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
                assertEquals(t, u);
                assertArrayEquals(bytes(a.raw(t).orElseThrow()), bytes(b.raw(u).orElseThrow()), t.name());
            }
        }
    }

    static byte[] bytes(TensorStore.RawRange range) throws IOException {
        try (FileChannel channel = FileChannel.open(range.file(), StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(range.length()));
            SafetensorsFile.readFully(channel, buffer, range.offset());
            return buffer.array();
        }
    }
}
