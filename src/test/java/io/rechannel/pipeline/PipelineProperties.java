package io.rechannel.pipeline;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.format.TensorRole;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The core pipeline on random models and maps, independent of any file format: every layout of kernel, every
 * channel count. The adapted model answers new input x' as the original answers Mᵀx' (new(x') = old(Mᵀx')), kept
 * channels keep their constants and optimizer state, the rest is untouched, and the verifier passes it — and
 * catches a single changed value in a kernel or in a tensor the adaptation leaves alone.
 */
class PipelineProperties {

    private static final TensorRole[] LAYOUTS = {TensorRole.CONV_HWIO, TensorRole.CONV_OIHW, TensorRole.CONV_TRANSPOSE_HWOI,
            TensorRole.CONV_TRANSPOSE_IOHW, TensorRole.DENSE_IN_OUT, TensorRole.LINEAR_OUT_IN};

    record Case(InMemoryModel model, ChannelMap map, long seed) {
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(Arbitraries.integers().between(1, 5), Arbitraries.integers().between(1, 6),
                Arbitraries.of(LAYOUTS), Arbitraries.of(LAYOUTS), Arbitraries.longs()).as((oldCount, newCount, a, b, seed) -> {
                    Random random = new Random(seed);
                    double[][] m = new double[newCount][oldCount];
                    for (double[] row : m) {
                        for (int i = 0; i < oldCount; i++) {
                            row[i] = random.nextInt(3) == 0 ? 0 : random.nextGaussian();
                        }
                    }
                    ChannelMap map = ChannelMap.ofMatrix(ChannelLayout.numbered(oldCount), ChannelLayout.numbered(newCount), m);
                    return new Case(InMemoryModel.random(oldCount, a, b, seed), map, seed);
                });
    }

    private static InMemoryModel adapt(Case c) {
        AdaptationPlan plan = Planner.plan(c.model(), AdaptOptions.of(c.map()));
        InMemoryModel.Sink sink = c.model().sink();
        new Adaptation(c.model(), plan, c.map(), AdaptOptions.of(c.map())).apply(sink);
        return sink.adapted;
    }

    private static VerifyResult verify(Case c, InMemoryModel adapted) {
        Verification verification = new Verification("memory.model", "adapted.model");
        PlanVerifier.verify(c.model(), adapted, AdaptOptions.of(c.map()), verification);
        return verification.result();
    }

    @Property(tries = 300)
    void theAdaptedLayersAnswerNewInputAsTheOriginalAnswersItsMapping(@ForAll("cases") Case c) {
        InMemoryModel adapted = adapt(c);
        Random random = new Random(c.seed() ^ 99);
        double[] newInput = random.doubles(c.map().newCount(), -1, 1).toArray();
        double[] oldInput = new double[c.map().oldCount()];
        double[][] m = c.map().matrix();
        for (int i = 0; i < oldInput.length; i++) {
            for (int j = 0; j < newInput.length; j++) {
                oldInput[i] += m[j][i] * newInput[j];
            }
        }
        for (String layer : new String[] {InMemoryModel.FIRST, InMemoryModel.SECOND}) {
            String kernel = layer + "/kernel";
            double[] before = contract(c.model(), kernel, oldInput);
            double[] after = contract(adapted, kernel, newInput);
            assertEquals(before.length, after.length, kernel);
            for (int k = 0; k < before.length; k++) {
                assertEquals(before[k], after[k], 1e-9 * (1 + Math.abs(before[k])), kernel + " at " + k);
            }
        }
    }

    /** The kernel applied to one input vector: Σ over its channel axis of K · x, for every other index. */
    private static double[] contract(InMemoryModel model, String name, double[] x) {
        long[] shape = model.tensors.get(name).shape();
        int axis = model.tensors.get(name).role().channelAxis(shape.length);
        AxisView view = AxisView.of(shape, axis);
        assertEquals(x.length, view.axisLength(), name + " " + Arrays.toString(shape));
        double[] k = model.values.get(name);
        double[] out = new double[Math.toIntExact(view.outer() * view.inner())];
        for (long o = 0; o < view.outer(); o++) {
            for (int c = 0; c < x.length; c++) {
                for (long i = 0; i < view.inner(); i++) {
                    out[(int) (o * view.inner() + i)] += k[(int) ((o * x.length + c) * view.inner() + i)] * x[c];
                }
            }
        }
        return out;
    }

    @Property(tries = 200)
    void keptChannelsKeepConstantsAndStateAndTheRestIsUntouched(@ForAll("cases") Case c) {
        InMemoryModel adapted = adapt(c);
        assertArrayEquals(c.model().values.get("head/kernel"), adapted.values.get("head/kernel"));
        double[] mean = c.model().values.get("norm/mean");
        double[] newMean = adapted.values.get("norm/mean");
        assertEquals(c.map().newCount(), newMean.length);
        double[] state = adapted.values.get("optimizer/first/m");
        assertEquals(adapted.values.get("first/kernel").length, state.length);
        for (int j = 0; j < c.map().newCount(); j++) {
            String name = c.map().to().name(j);
            int old = c.map().from().indexOf(name);
            if (old >= 0) {
                assertEquals(mean[old], newMean[j], 0.0, "mean of " + name);
            }
        }
        VerifyResult result = verify(c, adapted);
        assertTrue(result.passed(), result.toString());
        assertTrue(result.problems().isEmpty(), result.problems().toString());
    }

    @Property(tries = 100)
    void oneChangedKernelValueFailsVerification(@ForAll("cases") Case c) {
        InMemoryModel adapted = adapt(c);
        double[] kernel = adapted.values.get("second/kernel");
        int at = new Random(c.seed()).nextInt(kernel.length);
        kernel[at] += 0.5 + Math.abs(kernel[at]);
        assertFalse(verify(c, adapted).passed());
    }

    @Property(tries = 50)
    void oneChangedValueOutsideThePlanIsADifference(@ForAll("cases") Case c) {
        InMemoryModel adapted = adapt(c);
        adapted.values.get("head/kernel")[3] += 1;
        VerifyResult result = verify(c, adapted);
        assertFalse(result.passed());
        assertTrue(result.problems().contains("adapted.model: 'head/kernel' differs from the original"),
                result.problems().toString());
    }
}
