package io.rechannel.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mixing a stored tensor block by block gives, bit for bit, what mixing it whole gives: for random
 * real shapes, channel dimensions (split as a flatten folds positions into them), channel segments,
 * maps (fresh channels included) and block sizes. The blocks are read and written through the same
 * {@link Hyperslab} semantics HDF5 applies, checked here against a direct enumeration.
 */
class SlicedMixingProperties {

    /** A tensor of real {@code shape} whose dimension {@code axisDim} is hi × axis × lo. */
    record Case(long[] shape, int axisDim, AxisView view, int newCount, long budget, long seed) {
        TensorLayout layout() {
            return TensorLayout.of(shape, view, axisDim);
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 5),
                        Arbitraries.integers().between(1, 6), Arbitraries.longs().between(1, 400), Arbitraries.longs())
                .as((rank, axisLength, newCount, budget, seed) -> {
                    Random random = new Random(seed);
                    int axisDim = random.nextInt(rank);
                    long hi = 1 + random.nextInt(3);
                    long lo = 1 + random.nextInt(3);
                    long[] shape = new long[rank];
                    long before = 1;
                    long after = 1;
                    for (int d = 0; d < rank; d++) {
                        shape[d] = d == axisDim ? hi * axisLength * lo : 1 + random.nextInt(4);
                        if (d < axisDim) {
                            before *= shape[d];
                        } else if (d > axisDim) {
                            after *= shape[d];
                        }
                    }
                    int offset = random.nextInt(axisLength);
                    int count = 1 + random.nextInt(axisLength - offset);
                    AxisView view = new AxisView(before * hi, axisLength, lo * after, offset, count);
                    return new Case(shape, axisDim, view, newCount, budget, seed);
                });
    }

    private static Mixing randomMixing(Case c, boolean withFresh) {
        Random random = new Random(c.seed() ^ 77);
        double[][] w = new double[c.newCount()][c.view().count()];
        boolean[] fresh = new boolean[c.newCount()];
        for (int r = 0; r < w.length; r++) {
            fresh[r] = withFresh && random.nextInt(3) == 0;
            for (int s = 0; s < w[r].length && !fresh[r]; s++) {
                w[r][s] = random.nextInt(3) == 0 ? 0 : random.nextGaussian();
            }
        }
        return new Mixing(w, fresh, c.seed());
    }

    @Property(tries = 400)
    void blockedMixingEqualsWholeMixingBitForBit(@ForAll("cases") Case c) {
        TensorLayout layout = c.layout();
        double[] old = new Random(c.seed()).doubles(layout.size(), -2, 2).toArray();
        Mixing mixing = randomMixing(c, true);
        double[] whole = ChannelMixer.remix(old, c.view(), mixing);

        TensorLayout next = layout.withChannels(c.newCount());
        double[] blocked = new double[Math.toIntExact(next.size())];
        Arrays.fill(blocked, Double.NaN);
        ChannelMixer.mix(layout, mixing, Blocks.reader(old, layout.shape()), Blocks.writer(blocked, next.shape()),
                ElementType.FLOAT64, "t", c.budget());
        assertArrayEquals(whole, blocked, "budget " + c.budget() + ", " + layout);
    }

    @Property(tries = 300)
    void mixingBlocksCoverEveryElementOnceAndFitTheBudget(@ForAll("cases") Case c) {
        TensorLayout layout = c.layout();
        TensorLayout next = layout.withChannels(c.newCount());
        int widest = Math.max(c.view().axisLength(), next.view().axisLength());
        int[] seenOld = new int[Math.toIntExact(layout.size())];
        int[] seenNew = new int[Math.toIntExact(next.size())];
        for (TensorLayout.Block block : layout.mixingBlocks(c.budget(), next.view().axisLength())) {
            Hyperslab slab = layout.hyperslab(block);
            assertEquals(block.size(), slab.size());
            assertEquals(block.size(), layout.blockView(block).size());
            long perChannelVector = block.size() / c.view().axisLength() * widest;
            assertTrue(perChannelVector <= Math.max(c.budget(), widest), "block " + block + " over budget");
            for (long i : enumerate(slab, layout.shape())) {
                seenOld[(int) i]++;
            }
            for (long i : enumerate(next.hyperslab(next.sameBlock(block)), next.shape())) {
                seenNew[(int) i]++;
            }
        }
        assertTrue(Arrays.stream(seenOld).allMatch(n -> n == 1), Arrays.toString(seenOld));
        assertTrue(Arrays.stream(seenNew).allMatch(n -> n == 1), Arrays.toString(seenNew));
    }

    @Property(tries = 300)
    void flatBlocksFollowEachOtherInRowMajorOrder(@ForAll("cases") Case c) {
        TensorLayout layout = c.layout();
        long expected = 0;
        for (TensorLayout.Block block : layout.flatBlocks(c.budget())) {
            assertTrue(block.size() <= c.budget());
            assertEquals(expected, layout.flatStart(block));
            List<Long> indices = enumerate(layout.hyperslab(block), layout.shape());
            for (long i : indices) {
                assertEquals(expected++, i);
            }
        }
        assertEquals(layout.size(), expected);
    }

    @Property(tries = 300)
    void hyperslabRunsAreTheSelectionInRowMajorOrder(@ForAll("cases") Case c) {
        Random random = new Random(c.seed());
        long[] shape = c.shape();
        int rank = shape.length;
        long[] start = new long[rank];
        long[] stride = new long[rank];
        long[] count = new long[rank];
        long[] block = new long[rank];
        for (int d = 0; d < rank; d++) {
            block[d] = 1 + random.nextInt((int) shape[d]);
            stride[d] = block[d] + random.nextInt(2);
            count[d] = 1 + random.nextInt((int) Math.max(1, (shape[d] - block[d]) / stride[d] + 1));
            long span = (count[d] - 1) * stride[d] + block[d];
            start[d] = random.nextInt((int) (shape[d] - span + 1));
        }
        Hyperslab slab = new Hyperslab(start, stride, count, block);
        List<Long> expected = new ArrayList<>();
        long total = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        for (long flat = 0; flat < total; flat++) {
            long rest = flat;
            boolean inside = true;
            for (int d = rank - 1; d >= 0; d--) {
                long x = rest % shape[d] - start[d];
                rest /= shape[d];
                inside &= x >= 0 && x / stride[d] < count[d] && x % stride[d] < block[d];
            }
            if (inside) {
                expected.add(flat);
            }
        }
        assertEquals(expected, enumerate(slab, shape));
        assertEquals(expected.size(), slab.size());
    }

    /** The layouts of both the stored tensor and its mix agree with the AxisView arithmetic. */
    @Property(tries = 200)
    void newShapeGrowsOnlyTheChannelDimension(@ForAll("cases") Case c) {
        TensorLayout next = c.layout().withChannels(c.newCount());
        long[] shape = c.shape();
        long[] expected = shape.clone();
        expected[c.axisDim()] = shape[c.axisDim()] / c.view().axisLength() * next.view().axisLength();
        assertArrayEquals(expected, next.shape());
        assertTrue(c.layout().sameBut(next));
    }

    private static List<Long> enumerate(Hyperslab slab, long[] shape) {
        List<Long> indices = new ArrayList<>();
        slab.forEachRun(shape, (start, length) -> {
            for (long i = 0; i < length; i++) {
                indices.add(start + i);
            }
        });
        return indices;
    }
}
