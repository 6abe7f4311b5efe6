package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Statistic;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.NodeRole;
import io.rechannel.pipeline.AdaptableModel;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.LayerTensor;
import io.rechannel.pipeline.PlannedTensor;
import io.rechannel.pipeline.Planner;
import io.rechannel.pipeline.StoredTensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An ONNX model as the pipeline reads it. A node mixing the channels holds its weight at input 1 (Conv and
 * ConvTranspose weights, Gemm and MatMul B); a per-channel node holds its constants at any input (initializers or
 * Constant outputs, through Identity aliases). Each is keyed by its input position and labelled with the
 * constant's name.
 */
final class OnnxAdaptable implements AdaptableModel {

    private final OnnxModel model;
    private final String source;

    OnnxAdaptable(OnnxModel model) {
        this.model = model;
        this.source = model.file().path().toString();
    }

    static OnnxAdaptable read(Path file) {
        return new OnnxAdaptable(OnnxModel.of(OnnxFile.read(file)));
    }

    /** The plan for {@code options}; refused where a node uses the channel count a Shape or Size node reads. */
    AdaptationPlan plan(AdaptOptions options) {
        return checkShapeReaders(Planner.plan(this, options));
    }

    /** Refuses {@code plan} of this model where a node uses the channel count a Shape or Size node reads. */
    AdaptationPlan checkShapeReaders(AdaptationPlan plan) {
        OnnxShapeReaders.check(model, plan.dependency(), source);
        return plan;
    }

    OnnxModel model() {
        return model;
    }

    /** The node a planned tensor belongs to. */
    OnnxMl.NodeProto node(PlannedTensor tensor) {
        return model.node(tensor.node());
    }

    /** The input position of the node at which it reads a planned tensor. */
    static int input(PlannedTensor tensor) {
        return Integer.parseInt(tensor.layer().key());
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public ModelGraph graph() {
        return model.graph();
    }

    @Override
    public ChannelAxis defaultAxis() {
        return ChannelAxis.FIRST;
    }

    @Override
    public List<LayerTensor> tensorsOf(Consumer consumer) {
        OnnxMl.NodeProto node = model.node(consumer.node().id());
        if (node == null) {
            return List.of(); // a layer of another model (the original's, asked of the adapted one) that is not here
        }
        if (consumer.node().role() == NodeRole.MIXES_CHANNELS) {
            String weight = model.constantSource(node.getInput(1));
            long[] dims = model.constantShape(weight);
            checkKernel(node.getOpType(), dims, consumer, weight);
            return List.of(LayerTensor.kernel(tensor(weight, kernelRole(node)), LayerTensor.Part.KERNEL, "1", weight));
        }
        List<LayerTensor> constants = new ArrayList<>();
        for (int k = 0; k < node.getInputCount(); k++) {
            String constant = model.constantSource(node.getInput(k));
            if (constant != null) {
                constants.add(LayerTensor.constant(tensor(constant, TensorRole.OTHER), String.valueOf(k), constant,
                        statistic(node.getOpType(), k), true));
            }
        }
        return constants;
    }

    /** How an operator lays out its weight: Conv (out, in, …), ConvTranspose (in, out, …), Gemm's B, MatMul's B. */
    private static TensorRole kernelRole(OnnxMl.NodeProto node) {
        return switch (node.getOpType()) {
            case "Conv" -> TensorRole.CONV_OIHW;
            case "ConvTranspose" -> TensorRole.CONV_TRANSPOSE_IOHW;
            case "Gemm" -> OnnxModel.attribute(node, "transB", 0) == 1 ? TensorRole.LINEAR_OUT_IN : TensorRole.DENSE_IN_OUT;
            default -> TensorRole.DENSE_IN_OUT;
        };
    }

    /** What a per-channel node's constant holds if the node is the first normalisation. */
    private static Statistic statistic(String op, int input) {
        return switch (op) {
            case "Sub" -> Statistic.MEAN;
            case "Div" -> Statistic.STD;
            case "Mul" -> Statistic.INVERSE_STD;
            case "BatchNormalization" -> input == 3 ? Statistic.MEAN : input == 4 ? Statistic.VARIANCE : null;
            default -> null;
        };
    }

    /**
     * A kernel must have the rank its operator defines (Conv/ConvTranspose: output and input channels and at
     * least one spatial axis; Gemm: 2; MatMul: at least 1) and no empty axis: a layer without weights reads
     * no channels, and the arithmetic on its shape would divide by zero. MatMul weights of another rank than 2 are
     * valid but not adapted.
     */
    private void checkKernel(String op, long[] dims, Consumer consumer, String weight) {
        int rank = switch (op) {
            case "Conv", "ConvTranspose" -> 3;
            case "Gemm" -> 2;
            default -> 1;
        };
        String which = source + ": node '" + consumer.node().id() + "' (" + op + ") weight '" + weight + "' has dims "
                + Arrays.toString(dims);
        if (dims.length < rank || op.equals("Gemm") && dims.length != 2) {
            throw RechannelException.malformed(which + "; " + op + " needs a weight of rank "
                    + (op.equals("Gemm") ? "2" : rank + " or more"));
        }
        for (long d : dims) {
            if (d == 0) {
                throw RechannelException.malformed(which + ", an empty axis; the layer would have no weights");
            }
        }
        if (op.equals("MatMul") && dims.length != 2) {
            // a valid product (of a vector, or batched), not one rechannel adapts
            throw RechannelException.unsupported(source + ": node '" + consumer.node().id() + "' (" + op
                    + ") has a weight of rank " + dims.length + "; rechannel adapts 2-D MatMul weights");
        }
    }

    private NamedTensor tensor(String constant, TensorRole role) {
        OnnxFile.TensorInfo info = model.file().initializers().get(constant);
        int type = info != null ? info.dataType() : model.constant(constant).getDataType();
        return NamedTensor.of(constant, OnnxTensors.dtype(type), model.constantShape(constant), role);
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return model.constantValues(tensor.name());
    }

    /** Blocks of a constant, read as byte runs of its file (inline or external data). */
    @Override
    public Blocks.Reader reader(NamedTensor tensor) {
        return TensorData.source(model, tensor.name()).reader();
    }

    @Override
    public ElementType elementType(NamedTensor tensor) {
        return TensorData.type(model, tensor.name());
    }

    @Override
    public StoredTensors stored() {
        return new OnnxInitializers(model.file());
    }
}
