package io.rechannel.torch;

import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorStore;
import io.rechannel.torch.PickleValues.Span;
import io.rechannel.torch.PickleValues.Storage;
import io.rechannel.torch.PickleValues.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A torch.save checkpoint: a plain state dict, or a nested one ({@code {"state_dict": ..., "optimizer":
 * ..., "epoch": ...}}, Lightning {@code .ckpt}, {@code {"model": ...}}). Tensors are named by their path
 * ({@code state_dict/conv1.weight}; a plain state dict's keys as they are); optimizer state
 * ({@code {"state": {index: {"exp_avg": ...}}, "param_groups": [...]}}) is recognised and keyed by the
 * parameter's index. Written back with only the changed tensors' storages and sizes replaced.
 */
final class TorchCheckpoint implements TensorStore {

    private final TorchZip zip;
    private final SafePickle pickle;
    private final CheckpointTree tree;
    private final Map<Tensor, TorchZip.Record> storages = new IdentityHashMap<>();
    private final List<NamedTensor> tensors;

    private TorchCheckpoint(TorchZip zip, SafePickle pickle) {
        this.zip = zip;
        this.pickle = pickle;
        this.tree = new CheckpointTree(pickle.root);
        this.tensors = StateDictRoles.assign(tree.tensors());
        for (Tensor t : pickle.tensors) {
            storages.put(t, storageRecord(t.storage));
        }
    }

    static TorchCheckpoint open(Path file) {
        byte[] head = ModelFormats.head(file, 2);
        if (head.length >= 1 && (head[0] & 0xff) == 0x80) {
            throw RechannelException.unsupported(file + ": the legacy torch.save format (PyTorch before 1.6, or"
                    + " _use_new_zipfile_serialization=False); rechannel reads the zip format: load it with torch.load and"
                    + " save it again with torch.save");
        }
        if (head.length < 2 || head[0] != 'P' || head[1] != 'K') {
            throw RechannelException.malformed(file + ": not a torch.save file (not a zip archive)");
        }
        TorchZip zip = TorchZip.open(file);
        if (zip.record("constants.pkl") != null || zip.records().stream().anyMatch(r -> r.name().startsWith(zip.prefix() + "code/"))) {
            throw RechannelException.unsupported(file + ": a TorchScript archive (torch.jit.save), not a torch.save state dict");
        }
        TorchZip.Record data = zip.record("data.pkl");
        if (data == null) {
            throw RechannelException.malformed(file + ": no " + zip.prefix() + "data.pkl in the archive (not a torch.save file)");
        }
        TorchZip.Record byteorder = zip.record("byteorder");
        if (byteorder != null && !new String(zip.read(byteorder), java.nio.charset.StandardCharsets.US_ASCII).equals("little")) {
            throw RechannelException.unsupported(file + ": tensors stored big-endian (byteorder); rechannel reads little-endian");
        }
        SafePickle pickle = SafePickle.read(zip.read(data), file + ": " + data.name());
        return new TorchCheckpoint(zip, pickle);
    }

    private TorchZip.Record storageRecord(Storage storage) {
        TorchZip.Record record = zip.record("data/" + storage.key());
        String where = zip.file() + ": storage " + storage.key();
        if (record == null) {
            throw RechannelException.malformed(where + " named by the pickle is not in the archive");
        }
        if (record.method() != 0) {
            throw RechannelException.unsupported(where + " is compressed; torch.save stores storages uncompressed");
        }
        if (record.size() != Math.multiplyExact(storage.numel(), storage.dtype().size())) {
            throw RechannelException.malformed(where + " holds " + record.size() + " bytes; the pickle says "
                    + storage.numel() + " × " + storage.dtype() + " elements");
        }
        return record;
    }

    @Override
    public Path file() {
        return zip.file();
    }

    @Override
    public List<NamedTensor> tensors() {
        return tensors;
    }

    @Override
    public double[] read(NamedTensor stored) {
        Tensor t = tree.tensor(stored);
        byte[] storage = zip.read(storages.get(t));
        int size = t.storage.dtype().size();
        int count = Math.toIntExact(t.elements());
        if (t.ownsContiguousStorage() || java.util.Arrays.equals(t.stride, Tensor.contiguousStrides(t.size))) {
            return t.storage.dtype().decode(ByteBuffer.wrap(storage, Math.toIntExact(t.offset * size), count * size), count);
        }
        // a strided view: gather its elements in row-major order
        double[] all = t.storage.dtype().decode(ByteBuffer.wrap(storage), Math.toIntExact(t.storage.numel()));
        double[] values = new double[count];
        long[] index = new long[t.size.length];
        for (int i = 0; i < count; i++) {
            long at = t.offset;
            for (int d = 0; d < index.length; d++) {
                at += index[d] * t.stride[d];
            }
            values[i] = all[Math.toIntExact(at)];
            for (int d = index.length - 1; d >= 0 && ++index[d] == t.size[d]; d--) {
                index[d] = 0;
            }
        }
        return values;
    }

    @Override
    public Optional<RawRange> raw(NamedTensor stored) {
        Tensor t = tree.tensor(stored);
        TorchZip.Record record = storages.get(t);
        if (java.util.Arrays.equals(t.stride, Tensor.contiguousStrides(t.size))) {
            long size = t.storage.dtype().size();
            return Optional.of(new RawRange(zip.file(), record.dataOffset() + t.offset * size, t.elements() * size));
        }
        return Optional.of(new RawRange(zip.file(), record.dataOffset(), record.size()));
    }

    @Override
    public Optional<ModelInput> input() {
        return io.rechannel.pipeline.GraphlessModel.input(this);
    }

    @Override
    public Map<String, String> details() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("layout", "torch.save zip archive '" + zip.prefix() + "', pickle protocol " + pickle.protocol + ", "
                + pickle.tensors.stream().map(t -> t.storage.key()).distinct().count() + " storages");
        details.put("structure", tree.structure());
        return details;
    }

    @Override
    public List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite) {
        String where = zip.file() + ": " + zip.prefix() + "data.pkl";
        PickleRewriter rewriter = new PickleRewriter(pickle, where);
        Map<String, Supplier<byte[]>> replaced = new HashMap<>();
        List<String> changes = new ArrayList<>();
        for (TensorEdit edit : edits) {
            Tensor t = tree.tensor(edit.tensor());
            String name = edit.tensor().name();
            List<String> sharing = tree.sharingStorage(t);
            if (!sharing.isEmpty()) {
                throw RechannelException.unsupported(zip.file() + ": tensor '" + name + "' shares its storage with "
                        + String.join(", ", sharing) + "; rechannel changes only tensors that have their own storage");
            }
            long numel = io.rechannel.core.Shapes.count(edit.shape());
            rewriter.replace(t.storage.numelSpan(), PickleRewriter.integer(numel), "the storage size of '" + name + "'");
            rewriter.replace(t.offsetSpan, PickleRewriter.integer(0), "the storage offset of '" + name + "'");
            rewriter.replace(t.sizeSpan, PickleRewriter.tuple(edit.shape()), "the size of '" + name + "'");
            rewriter.replace(t.strideSpan, PickleRewriter.tuple(Tensor.contiguousStrides(edit.shape())),
                    "the stride of '" + name + "'");
            // encoded when the writer reaches the record: one tensor in memory at a time
            replaced.put(storages.get(t).name(), () -> Dtype.encoded(edit));
        }
        Set<String> omitted = new HashSet<>();
        if (dropOptimizer) {
            List<Span> dropped = new ArrayList<>();
            for (CheckpointTree.Optimizer optimizer : tree.optimizers()) {
                rewriter.empty(optimizer.stateSpan(), "the optimizer state at '" + optimizer.path() + "'");
                dropped.add(optimizer.stateSpan());
                changes.add("optimizer state at '" + optimizer.path() + "' removed");
            }
            omitted.addAll(unreferencedStorages(dropped));
        }
        byte[] rewritten = rewriter.rewrite();
        replaced.put(zip.prefix() + "data.pkl", () -> rewritten);
        try (AtomicOutput out = AtomicOutput.create(zip.file(), output, overwrite)) {
            TorchZipWriter.write(zip, replaced, omitted, out.path());
            out.commit();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": cannot write: " + e.getMessage(), e);
        }
        if (!omitted.isEmpty()) {
            changes.add(omitted.size() + " storages of the removed optimizer state left out");
        }
        return changes;
    }

    /** Storage records used only by tensors written inside the removed spans. */
    private Set<String> unreferencedStorages(List<Span> dropped) {
        Set<String> used = new HashSet<>();
        Set<String> inDropped = new HashSet<>();
        for (Tensor t : pickle.tensors) {
            boolean gone = dropped.stream().anyMatch(s -> t.sizeSpan.start() >= s.start() && t.sizeSpan.end() <= s.end());
            (gone ? inDropped : used).add(storages.get(t).name());
        }
        inDropped.removeAll(used);
        return inDropped;
    }

    @Override
    public void close() {
        // the archive is opened for each read
    }
}
