package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.Blocks;
import io.rechannel.core.RechannelException;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorRole;
import io.rechannel.format.TensorStore;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An ONNX model's initializers as named tensors, their roles told from the nodes reading them (directly
 * or through {@code Identity}): Conv weights (out, in, …) and biases, depthwise Conv weights (groups equal
 * to the input channels), Gemm weights ((out, in) with {@code transB}, else (in, out)), MatMul weights
 * (in, out), BatchNormalization's scale, offset, mean and variance. Written through the streaming
 * writer: changed initializers stored inline, everything else copied byte for byte.
 */
final class OnnxTensorStore implements TensorStore {

    /** Operations after which a flattened map has one position whatever its recorded shape. */
    private static final Set<String> GLOBAL_POOLS = Set.of("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool");

    private final OnnxModel model;
    private final List<NamedTensor> tensors = new ArrayList<>();
    private final Map<String, OnnxMl.NodeProto> producers = new HashMap<>();

    OnnxTensorStore(Path path) {
        this.model = OnnxModel.of(OnnxFile.read(path));
        for (OnnxMl.NodeProto node : model.file().nodes()) {
            node.getOutputList().forEach(output -> producers.put(output, node));
        }
        Map<String, TensorRole> roles = roles();
        for (OnnxFile.TensorInfo info : model.file().initializers().values()) {
            tensors.add(NamedTensor.of(info.name(), OnnxTensors.dtype(info.dataType()), info.dims(), roles.getOrDefault(info.name(), TensorRole.OTHER)));
        }
    }

    /** Each initializer's role; one read in two different roles is OTHER. */
    private Map<String, TensorRole> roles() {
        Map<String, TensorRole> roles = new HashMap<>();
        for (OnnxMl.NodeProto node : model.file().nodes()) {
            for (int k = 0; k < node.getInputCount(); k++) {
                String source = model.constantSource(node.getInput(k));
                OnnxFile.TensorInfo info = source == null ? null : model.file().initializers().get(source);
                if (info == null) {
                    continue;
                }
                TensorRole role = role(node, k, info.dims());
                roles.merge(source, role, (a, b) -> a == b ? a : TensorRole.OTHER);
            }
        }
        return roles;
    }

    private TensorRole role(OnnxMl.NodeProto node, int input, long[] dims) {
        return switch (node.getOpType()) {
            case "Conv" -> input == 2 ? TensorRole.BIAS : input == 1 ? convolution(node, dims) : TensorRole.OTHER;
            case "ConvTranspose" -> input == 2 ? TensorRole.BIAS : TensorRole.OTHER;
            case "Gemm" -> input == 2 && dims.length == 1 ? TensorRole.BIAS
                    : input == 1 && dims.length == 2 && OnnxModel.attribute(node, "transA", 0) == 0
                    ? matrix(node, OnnxModel.attribute(node, "transB", 0) != 0) : TensorRole.OTHER;
            case "MatMul" -> input == 1 && dims.length == 2 ? matrix(node, false) : TensorRole.OTHER;
            case "Add" -> dims.length == 1 && producedBy(node.getInput(1 - input), "MatMul") ? TensorRole.BIAS : TensorRole.OTHER;
            case "BatchNormalization" -> switch (input) {
                case 1 -> TensorRole.BN_GAMMA;
                case 2 -> TensorRole.BN_BETA;
                case 3 -> TensorRole.BN_MEAN;
                case 4 -> TensorRole.BN_VARIANCE;
                default -> TensorRole.OTHER;
            };
            default -> TensorRole.OTHER;
        };
    }

    private static TensorRole convolution(OnnxMl.NodeProto node, long[] dims) {
        long groups = OnnxModel.attribute(node, "group", 1);
        if (dims.length < 3 || dims.length > 5) {
            return TensorRole.OTHER;
        }
        if (groups == 1) {
            return TensorRole.CONV_OIHW;
        }
        return dims[1] == 1 ? TensorRole.DEPTHWISE_OIHW : TensorRole.OTHER;
    }

    /** A dense weight; reading a flattened map of several positions (or of unknown shape), its order is channels-first. */
    private TensorRole matrix(OnnxMl.NodeProto node, boolean outIn) {
        boolean flattened = readsFlattenedMap(node.getInput(0));
        if (outIn) {
            return flattened ? TensorRole.LINEAR_OUT_IN_FLATTENED : TensorRole.LINEAR_OUT_IN;
        }
        return flattened ? TensorRole.DENSE_IN_OUT_FLATTENED : TensorRole.DENSE_IN_OUT;
    }

    private boolean readsFlattenedMap(String tensor) {
        OnnxMl.NodeProto producer = producers.get(tensor);
        if (producer == null || !(producer.getOpType().equals("Flatten") || producer.getOpType().equals("Reshape"))) {
            return false;
        }
        String map = producer.getInput(0);
        long[] shape = recordedShape(map);
        if (shape == null) {
            OnnxMl.NodeProto before = producers.get(map);
            return before == null || !GLOBAL_POOLS.contains(before.getOpType());
        }
        long positions = 1;
        for (int d = 2; d < shape.length; d++) {
            positions *= shape[d] < 1 ? 2 : shape[d];
        }
        return positions > 1;
    }

    private long[] recordedShape(String tensor) {
        List<OnnxMl.ValueInfoProto> infos = new ArrayList<>(model.file().inputs());
        infos.addAll(model.file().valueInfos());
        for (OnnxMl.ValueInfoProto info : infos) {
            if (info.getName().equals(tensor) && info.getType().getTensorType().hasShape()) {
                return OnnxModel.shape(info);
            }
        }
        return null;
    }

    private boolean producedBy(String tensor, String op) {
        OnnxMl.NodeProto producer = producers.get(tensor);
        return producer != null && producer.getOpType().equals(op);
    }

    @Override
    public Path file() {
        return model.file().path();
    }

    @Override
    public List<NamedTensor> tensors() {
        return List.copyOf(tensors);
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return model.constantValues(info(tensor).name());
    }

    private OnnxFile.TensorInfo info(NamedTensor tensor) {
        OnnxFile.TensorInfo info = model.file().initializers().get(tensor.name());
        if (info == null) {
            throw new IllegalArgumentException("not an initializer of " + file() + ": " + tensor);
        }
        return info;
    }

    /** Blocks of an initializer, read as byte runs of its file (inline or external data). */
    @Override
    public Blocks.Reader reader(NamedTensor tensor) {
        return TensorData.source(model, info(tensor).name()).reader();
    }

    @Override
    public Map<String, String> details() {
        return Map.of("layout", "ONNX initializers", "nodes", String.valueOf(model.file().nodes().size()));
    }

    /** The graph input the model's first layers read, as {@code extend} finds it; empty for several inputs. */
    @Override
    public Optional<ModelInput> input() {
        AdaptationPlan plan;
        try {
            plan = new OnnxAdaptable(model).plan(AdaptOptions.analysisOnly(null, Set.of(), null, null));
        } catch (RechannelException e) {
            return Optional.empty();
        }
        return Optional.of(new ModelInput(plan.channels(), initializers(plan.kernels()), initializers(plan.constants())));
    }

    private List<String> initializers(List<PlannedTensor> planned) {
        return planned.stream().map(PlannedTensor::name).filter(model.file().initializers()::containsKey).distinct().toList();
    }

    @Override
    public List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite) {
        OnnxEdits changes = new OnnxEdits();
        for (TensorEdit edit : edits) {
            if (!edit.keepsShape()) {
                throw new IllegalArgumentException(file() + ": ONNX initializers are written with their own shapes: "
                        + edit.tensor());
            }
            String name = info(edit.tensor()).name();
            long[] dims = edit.shape();
            OnnxMl.TensorProto header = OnnxTensors.header(TensorData.header(model, name), name, dims);
            changes.initializers.put(name, ChangedTensor.produced(header, dims, edit.values()::writeTo, file()));
        }
        return OnnxOutput.write(model.file(), changes, output, overwrite);
    }

    @Override
    public void close() {
        // the file is opened for each read
    }
}
