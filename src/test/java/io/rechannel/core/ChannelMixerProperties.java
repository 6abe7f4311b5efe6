package io.rechannel.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The defining property of the channel maths, for random layouts, shapes and maps: a layer whose
 * kernel was mixed with M computes on x' exactly what the old layer computes on Mᵀx'. The reference
 * here is a direct contraction written independently of {@link ChannelMixer}.
 */
class ChannelMixerProperties {

    record Case(int outer, int oldAxis, int inner, int offset, int oldCount, int newCount, long seed) {
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(Arbitraries.integers().between(1, 6), Arbitraries.integers().between(1, 5),
                        Arbitraries.integers().between(1, 5), Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(1, 5), Arbitraries.longs())
                .as((outer, inner, oldCount, extra, newCount, seed) -> {
                    int offset = (int) Math.floorMod(seed, extra + 1);
                    return new Case(outer, oldCount + extra, inner, offset, oldCount, newCount, seed);
                });
    }

    @Property(tries = 300)
    void mixedLayerOnNewInputEqualsOldLayerOnMappedInput(@ForAll("cases") Case c) {
        Random random = new Random(c.seed());
        double[][] m = new double[c.newCount()][c.oldCount()];
        for (double[] row : m) {
            for (int i = 0; i < row.length; i++) {
                row[i] = random.nextInt(3) == 0 ? 0 : random.nextGaussian();
            }
        }
        ChannelMap map = ChannelMap.ofMatrix(ChannelLayout.numbered(c.oldCount()), ChannelLayout.numbered(c.newCount()), m);
        AxisView oldView = new AxisView(c.outer(), c.oldAxis(), c.inner(), c.offset(), c.oldCount());
        double[] oldWeight = random.doubles(oldView.size()).toArray();
        double[] newWeight = ChannelMixer.mixWeight(oldWeight, oldView, map, 1);
        AxisView newView = oldView.withCount(c.newCount());
        assertEquals(newView.size(), newWeight.length);

        double[] xNew = random.doubles(newView.axisLength(), -1, 1).toArray();
        double[] xOld = new double[c.oldAxis()];
        for (int a = 0; a < c.oldAxis(); a++) {
            if (a < c.offset()) {
                xOld[a] = xNew[a];
            } else if (a >= c.offset() + c.oldCount()) {
                xOld[a] = xNew[a - c.oldCount() + c.newCount()];
            } else {
                for (int j = 0; j < c.newCount(); j++) {
                    xOld[a] += m[j][a - c.offset()] * xNew[c.offset() + j];
                }
            }
        }
        for (int o = 0; o < c.outer(); o++) {
            for (int k = 0; k < c.inner(); k++) {
                double yNew = 0;
                for (int a = 0; a < newView.axisLength(); a++) {
                    yNew += newWeight[(o * newView.axisLength() + a) * c.inner() + k] * xNew[a];
                }
                double yOld = 0;
                for (int a = 0; a < c.oldAxis(); a++) {
                    yOld += oldWeight[(o * c.oldAxis() + a) * c.inner() + k] * xOld[a];
                }
                assertEquals(yOld, yNew, 1e-9 * (1 + Math.abs(yOld)));
            }
        }
        // mapInput is the same Mᵀx' over the whole axis
        assertArrayEquals(xOld, ChannelMixer.mapInput(xNew,
                new AxisView(1, newView.axisLength(), 1, c.offset(), c.newCount()), map), 1e-12);
    }

    @Property(tries = 100)
    void copyingMapsCopySlicesBitForBit(@ForAll("cases") Case c) {
        Random random = new Random(c.seed());
        ChannelLayout from = ChannelLayout.numbered(c.oldCount());
        ChannelMap map = ChannelMap.build(from, ChannelLayout.numbered(c.oldCount() + 1),
                List.of("c" + c.oldCount() + "=c" + random.nextInt(c.oldCount())), 0);
        AxisView view = new AxisView(c.outer(), c.oldAxis(), c.inner(), c.offset(), c.oldCount());
        double[] old = random.doubles(view.size()).toArray();
        double[] mixed = ChannelMixer.mixWeight(old, view, map, 0);
        int source = map.copiedFrom(c.oldCount());
        AxisView out = view.withCount(map.newCount());
        for (int o = 0; o < c.outer(); o++) {
            for (int k = 0; k < c.inner(); k++) {
                for (int a = 0; a < c.oldAxis(); a++) {
                    int shifted = a < c.offset() + c.oldCount() ? a : a + 1;
                    assertEquals(old[(o * c.oldAxis() + a) * c.inner() + k], mixed[(o * out.axisLength() + shifted) * c.inner() + k]);
                }
                assertEquals(old[(o * c.oldAxis() + c.offset() + source) * c.inner() + k],
                        mixed[(o * out.axisLength() + c.offset() + c.oldCount()) * c.inner() + k]);
            }
        }
    }

    @Property(tries = 100)
    void recoverFindsTheMapUsed(@ForAll("cases") Case c) {
        Random random = new Random(c.seed());
        double[][] m = new double[c.newCount()][c.oldCount()];
        for (double[] row : m) {
            for (int i = 0; i < row.length; i++) {
                row[i] = random.nextInt(4) - 1.5;
            }
        }
        ChannelMap map = ChannelMap.ofMatrix(ChannelLayout.numbered(c.oldCount()), ChannelLayout.numbered(c.newCount()), m);
        // enough independent values per channel for the least-squares problem to be well posed
        AxisView view = new AxisView(c.outer() + c.oldCount(), c.oldAxis(), c.inner(), c.offset(), c.oldCount());
        double[] old = random.doubles(view.size(), -1, 1).toArray();
        double[] mixed = ChannelMixer.mixWeight(old, view, map, 0);
        ChannelMap recovered = io.rechannel.verify.Verifier.recover(old, view, mixed, view.withCount(c.newCount()),
                map.from(), map.to());
        double[][] r = recovered.matrix();
        for (int j = 0; j < m.length; j++) {
            assertArrayEquals(m[j], r[j], 1e-6);
        }
        assertEquals(true, io.rechannel.verify.Verifier.checkTaps(old, view, mixed, view.withCount(c.newCount()), map, 3).passed());
    }
}
