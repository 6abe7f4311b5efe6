package io.rechannel.pipeline;

import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.format.NamedTensor;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.ModelGraph;

import java.util.List;

/**
 * A model as the pipeline reads it: the one thing a format supplies besides writing. The format says what its
 * model's graph is and which tensors each layer holds; planning, re-mixing and verifying are the pipeline's
 * ({@link Planner}, {@link Adaptation}, {@link PlanVerifier}).
 */
public interface AdaptableModel {

    /** The user's file, as messages name it. */
    String source();

    /** The model's graph. A format without one (a state dict) describes its input layers ({@link GraphlessModel}). */
    ModelGraph graph();

    /** Where the channels are in the graph's tensors when nothing in the model says (Keras: last; ONNX: first). */
    default ChannelAxis defaultAxis() {
        return ChannelAxis.LAST;
    }

    /**
     * False when the declared input shape may describe another file (a config given beside a weights file): the
     * input's channel count is then read from the first kernel reading it.
     */
    default boolean trustsDeclaredShape() {
        return true;
    }

    /**
     * True when {@code --init timm} is computed as timm computes it, in float32 term by term (bit-identical to timm's
     * {@code adapt_input_conv}); false to mix it like any other map, exactly and rounded once.
     */
    default boolean timmInFloat32() {
        return true;
    }

    /**
     * The tensors of a layer the analysis found: for a layer mixing the channels its kernel (or a separable
     * convolution's two); for a per-channel layer its constants. A layer whose kernel is missing or unusable for
     * the way it reads the channels ({@code consumer}'s segment) is refused here, naming the file and the layer.
     */
    List<LayerTensor> tensorsOf(Consumer consumer);

    /** Per-channel values a per-channel layer records in its description instead of tensors; none by default. */
    default List<RecordedList> listsOf(Consumer consumer) {
        return List.of();
    }

    /**
     * The optimizer state kept for {@code weight} (Adam's moments), laid out as the weight; none by default. A
     * format that cannot tell which state belongs to the weight refuses, suggesting to drop the optimizer state.
     */
    default List<NamedTensor> slotsOf(NamedTensor weight) {
        return List.of();
    }

    /** A whole tensor's values in row-major order; for small tensors (constants, input kernels). */
    double[] read(NamedTensor tensor);

    /** Blocks of a tensor, for kernels of any size. */
    default Blocks.Reader reader(NamedTensor tensor) {
        return Blocks.reader(read(tensor), tensor.shape());
    }

    /** The type the tensor's elements are stored in (the range new values must fit). */
    ElementType elementType(NamedTensor tensor);

    /** Every stored tensor, for the byte-for-byte comparison of what the adaptation leaves alone. */
    StoredTensors stored();
}
