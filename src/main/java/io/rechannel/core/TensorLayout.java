package io.rechannel.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stored tensor seen through the {@link AxisView} of its channel axis, so that it can be read,
 * mixed and written in blocks whatever its size.
 *
 * <p>The view (outer × axis × inner) and the tensor's real shape are joined in one finer shape: the
 * real dimensions before and after the one holding the channels, and that dimension split in three,
 * {@code hi × axis × lo} (a dense kernel behind a flatten folds positions into it: {@code hi} or
 * {@code lo} is the positions, the other 1). A {@link Block} is a box of that finer shape; it maps to
 * one {@link Hyperslab} of the real shape, which HDF5 reads directly and flat formats as byte runs.
 */
public final class TensorLayout {

    /** A box of the finer shape: its start and extent along every finer dimension. */
    public record Block(long[] start, long[] count) {
        public long size() {
            long n = 1;
            for (long c : count) {
                n = Math.multiplyExact(n, c);
            }
            return n;
        }
    }

    private final long[] shape;
    private final int axisDim;
    private final AxisView view;
    private final long[] dims;
    private final int axis;

    private TensorLayout(long[] shape, int axisDim, AxisView view, long hi, long lo) {
        this.shape = shape;
        this.axisDim = axisDim;
        this.view = view;
        this.axis = axisDim + 1;
        dims = new long[shape.length + 2];
        System.arraycopy(shape, 0, dims, 0, axisDim);
        dims[axisDim] = hi;
        dims[axis] = view.axisLength();
        dims[axis + 1] = lo;
        System.arraycopy(shape, axisDim + 1, dims, axis + 2, shape.length - axisDim - 1);
    }

    /**
     * A tensor of {@code shape} whose channel axis, as {@code view} describes it, lies in dimension
     * {@code axisDim} (a scalar counts as shape {@code [1]}).
     */
    public static TensorLayout of(long[] shape, AxisView view, int axisDim) {
        long[] real = shape.length == 0 ? new long[] {1} : shape.clone();
        if (axisDim < 0 || axisDim >= real.length) {
            throw new IllegalArgumentException("channel dimension " + axisDim + " of a shape " + Arrays.toString(shape));
        }
        long before = 1;
        long after = 1;
        for (int d = 0; d < real.length; d++) {
            if (real[d] < 1) {
                throw new IllegalArgumentException("empty dimension in shape " + Arrays.toString(shape));
            }
            if (d < axisDim) {
                before = Math.multiplyExact(before, real[d]);
            } else if (d > axisDim) {
                after = Math.multiplyExact(after, real[d]);
            }
        }
        long lo = view.inner() / after;
        long middle = Math.multiplyExact((long) view.axisLength(), lo);
        long hi = real[axisDim] / middle;
        if (view.inner() % after != 0 || real[axisDim] % middle != 0 || Math.multiplyExact(before, hi) != view.outer()) {
            throw new IllegalArgumentException("view " + view + " does not fit shape " + Arrays.toString(shape)
                    + " with channels in dimension " + axisDim);
        }
        return new TensorLayout(real, axisDim, view, hi, lo);
    }

    /** A tensor stored exactly as its view: shape (outer, axis, inner). */
    public static TensorLayout of(AxisView view) {
        return of(new long[] {view.outer(), view.axisLength(), view.inner()}, view, 1);
    }

    public long[] shape() {
        return shape.clone();
    }

    public AxisView view() {
        return view;
    }

    public long size() {
        return view.size();
    }

    /** The same tensor once its channel segment holds {@code newCount} channels. */
    public TensorLayout withChannels(int newCount) {
        AxisView next = view.withCount(newCount);
        long[] nextShape = shape.clone();
        nextShape[axisDim] = Math.multiplyExact(Math.multiplyExact(dims[axisDim], (long) next.axisLength()), dims[axis + 1]);
        return new TensorLayout(nextShape, axisDim, next, dims[axisDim], dims[axis + 1]);
    }

    /** True when {@code other} is this tensor with another channel count (same positions and outputs). */
    public boolean sameBut(TensorLayout other) {
        if (other.dims.length != dims.length || other.axis != axis) {
            return false;
        }
        for (int d = 0; d < dims.length; d++) {
            if (d != axis && dims[d] != other.dims[d]) {
                return false;
            }
        }
        return view.offset() == other.view.offset()
                && view.axisLength() - view.count() == other.view.axisLength() - other.view.count();
    }

    /**
     * Blocks holding every channel of the axis (as mixing needs), each of at most {@code budget}
     * elements when the axis is {@code widest} channels long (unless one channel vector alone is larger).
     */
    public List<Block> mixingBlocks(long budget, int widest) {
        return blocks(budget, Math.max(widest, view.axisLength()), axis);
    }

    /** Blocks of at most {@code budget} elements that follow each other in row-major order. */
    public List<Block> flatBlocks(long budget) {
        return blocks(budget, 1, -1);
    }

    /**
     * Boxes that fix a prefix of the finer dimensions, take a range of the next, and all of the rest
     * (and all of dimension {@code whole}, when given): each is one hyperslab.
     */
    private List<Block> blocks(long budget, long unit, int whole) {
        int n = dims.length;
        long[] suffix = new long[n];
        long s = 1;
        for (int d = n - 1; d >= 0; d--) {
            suffix[d] = s;
            if (d != whole) {
                s = Math.multiplyExact(s, dims[d]);
            }
        }
        long perUnit = Math.max(1, budget) / unit;
        int split = -1;
        for (int d = 0; d < n && split < 0; d++) {
            if (d != whole && suffix[d] <= perUnit) {
                split = d;
            }
        }
        if (split < 0) {
            split = n - 1 == whole ? n - 2 : n - 1;
        }
        long step = Math.max(1, Math.min(dims[split], perUnit / suffix[split]));
        List<Block> blocks = new ArrayList<>();
        long[] prefix = new long[n];
        while (true) {
            for (long r = 0; r < dims[split]; r += step) {
                long[] start = new long[n];
                long[] count = new long[n];
                for (int d = 0; d < n; d++) {
                    if (d == split) {
                        start[d] = r;
                        count[d] = Math.min(step, dims[d] - r);
                    } else if (d < split && d != whole) {
                        start[d] = prefix[d];
                        count[d] = 1;
                    } else {
                        count[d] = dims[d];
                    }
                }
                blocks.add(new Block(start, count));
            }
            int d = split - 1;
            while (d >= 0 && (d == whole || ++prefix[d] == dims[d])) {
                if (d != whole) {
                    prefix[d] = 0;
                }
                d--;
            }
            if (d < 0) {
                return blocks;
            }
        }
    }

    /** The block of this layout at the same positions as {@code other}'s block (every channel of the axis). */
    public Block sameBlock(Block block) {
        long[] start = block.start().clone();
        long[] count = block.count().clone();
        start[axis] = 0;
        count[axis] = dims[axis];
        return new Block(start, count);
    }

    /** How a mixing block's values lie: its outer positions × the whole axis × its inner positions. */
    public AxisView blockView(Block block) {
        if (block.count()[axis] != dims[axis]) {
            throw new IllegalArgumentException("a mixing block holds the whole channel axis");
        }
        return new AxisView(product(block.count(), 0, axis), view.axisLength(), product(block.count(), axis + 1, dims.length),
                view.offset(), view.count());
    }

    /** The view's outer index of each outer position of a block, in order. */
    public long[] outerIndices(Block block) {
        return indices(block, 0, axis);
    }

    /** The view's inner index of each inner position of a block, in order. */
    public long[] innerIndices(Block block) {
        return indices(block, axis + 1, dims.length);
    }

    /** The row-major index of a block's first element (for flat blocks, where its elements follow). */
    public long flatStart(Block block) {
        long index = 0;
        for (int d = 0; d < dims.length; d++) {
            index = index * dims[d] + block.start()[d];
        }
        return index;
    }

    private long[] indices(Block block, int from, int to) {
        long[] result = new long[Math.toIntExact(product(block.count(), from, to))];
        long[] position = new long[dims.length];
        for (int i = 0; i < result.length; i++) {
            long index = 0;
            for (int d = from; d < to; d++) {
                index = index * dims[d] + block.start()[d] + position[d];
            }
            result[i] = index;
            for (int d = to - 1; d >= from && ++position[d] == block.count()[d]; d--) {
                position[d] = 0;
            }
        }
        return result;
    }

    private static long product(long[] values, int from, int to) {
        long n = 1;
        for (int d = from; d < to; d++) {
            n = Math.multiplyExact(n, values[d]);
        }
        return n;
    }

    /** The block as a selection of the real shape. */
    public Hyperslab hyperslab(Block block) {
        int rank = shape.length;
        long[] start = new long[rank];
        long[] stride = new long[rank];
        long[] count = new long[rank];
        long[] extent = new long[rank];
        for (int d = 0; d < rank; d++) {
            stride[d] = 1;
            count[d] = 1;
            if (d != axisDim) {
                int f = d < axisDim ? d : d + 2;
                start[d] = block.start()[f];
                extent[d] = block.count()[f];
            }
        }
        // hi × axis × lo, from the right: contiguous while every factor to the right is whole or one index
        long inside = 1;
        long first = 0;
        long length = 1;
        boolean strided = false;
        for (int f = axis + 1; f >= axisDim; f--) {
            long s = block.start()[f];
            long l = block.count()[f];
            if (strided) {
                if (l != 1) {
                    throw new IllegalStateException("block " + block + " is not one hyperslab");
                }
                first += s * inside;
            } else if (length == inside) {
                first = s * inside;
                length = l * inside;
            } else if (l == 1) {
                first += s * inside;
            } else {
                strided = true;
                stride[axisDim] = inside;
                count[axisDim] = l;
                first += s * inside;
            }
            inside *= dims[f];
        }
        start[axisDim] = first;
        extent[axisDim] = length;
        return new Hyperslab(start, stride, count, extent);
    }

    @Override
    public String toString() {
        return Arrays.toString(shape) + " as " + view;
    }
}
