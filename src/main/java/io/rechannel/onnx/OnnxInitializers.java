package io.rechannel.onnx;

import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;
import io.rechannel.pipeline.StoredTensors;

import java.util.Arrays;
import java.util.List;

/**
 * An ONNX model's initializers as the verifier compares them: same type and dims, and the same bytes of values,
 * inline (the whole field) or in external data.
 */
final class OnnxInitializers implements StoredTensors {

    private final OnnxFile file;

    OnnxInitializers(OnnxFile file) {
        this.file = file;
    }

    @Override
    public List<String> names() {
        return List.copyOf(file.initializers().keySet());
    }

    @Override
    public String describe(String name) {
        return "initializer '" + name + "'";
    }

    @Override
    public boolean has(String name) {
        return file.initializers().containsKey(name);
    }

    @Override
    public boolean same(String name, StoredTensors other, Progress progress) {
        OnnxFile b = ((OnnxInitializers) other).file;
        OnnxFile.TensorInfo x = file.initializers().get(name);
        OnnxFile.TensorInfo y = b.initializers().get(name);
        return y != null && Arrays.equals(x.dims(), y.dims()) && x.dataType() == y.dataType() && sameData(x, b, y, progress);
    }

    private boolean sameData(OnnxFile.TensorInfo x, OnnxFile b, OnnxFile.TensorInfo y, Progress progress) {
        if (x.isExternal() != y.isExternal()) {
            return false;
        }
        if (!x.isExternal()) {
            long length = x.span().end() - x.span().start();
            return length == y.span().end() - y.span().start()
                    && ByteRanges.same(file.path(), x.span().start(), b.path(), y.span().start(), length, progress);
        }
        OnnxExternalData xd = OnnxExternalData.of(file, x);
        OnnxExternalData yd = OnnxExternalData.of(b, y);
        return xd.length() == yd.length() && ByteRanges.same(xd.file(), xd.offset(), yd.file(), yd.offset(), xd.length(),
                progress);
    }

    @Override
    public long bytes() {
        return OnnxRuntimeCheck.weightBytes(file);
    }

    @Override
    public boolean hasOptimizerState() {
        return false;
    }

    @Override
    public boolean isOptimizerState(String name) {
        return false;
    }
}
