package io.rechannel.transfer;

import io.rechannel.format.TensorRole;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layout conversions between frameworks, for random shapes: a round trip changes nothing, and a layer
 * computed in either framework's layout (its input laid out as that framework lays it out) gives the same
 * outputs — a convolution, a depthwise convolution, a dense layer.
 */
class LayoutProperties {

    @Property
    void convolutionKernelsRoundTrip(@ForAll @IntRange(min = 3, max = 5) int rank, @ForAll long seed) {
        Random random = new Random(seed);
        long[] hwio = randomShape(random, rank);
        double[] values = values(random, hwio);
        Layouts.Conversion there = Layouts.plan(TensorRole.CONV_HWIO, hwio, TensorRole.CONV_OIHW, oihwOf(hwio));
        assertArrayEquals(oihwOf(hwio), there.shape());
        double[] oihw = Layouts.apply(values, hwio, there);
        Layouts.Conversion back = Layouts.plan(TensorRole.CONV_OIHW, there.shape(), TensorRole.CONV_HWIO, hwio);
        assertArrayEquals(hwio, back.shape());
        assertArrayEquals(values, Layouts.apply(oihw, there.shape(), back), 0.0);
    }

    @Property
    void denseKernelsRoundTrip(@ForAll @IntRange(min = 1, max = 9) int in, @ForAll @IntRange(min = 1, max = 9) int out,
                               @ForAll long seed) {
        long[] shape = {in, out};
        double[] values = values(new Random(seed), shape);
        Layouts.Conversion there = Layouts.plan(TensorRole.DENSE_IN_OUT, shape, TensorRole.LINEAR_OUT_IN, new long[] {out, in});
        double[] linear = Layouts.apply(values, shape, there);
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                assertEquals(values[i * out + o], linear[o * in + i]);
            }
        }
        Layouts.Conversion back = Layouts.plan(TensorRole.LINEAR_OUT_IN, there.shape(), TensorRole.DENSE_IN_OUT, shape);
        assertArrayEquals(values, Layouts.apply(linear, there.shape(), back), 0.0);
    }

    @Property
    void depthwiseKernelsRoundTrip(@ForAll @IntRange(min = 3, max = 5) int rank,
                                   @ForAll @IntRange(min = 1, max = 3) int multiplier, @ForAll long seed) {
        Random random = new Random(seed);
        long[] hwim = randomShape(random, rank);
        hwim[rank - 1] = multiplier;
        double[] values = values(random, hwim);
        long[] torch = depthwiseOihwOf(hwim);
        Layouts.Conversion there = Layouts.plan(TensorRole.DEPTHWISE_HWIM, hwim, TensorRole.CONV_OIHW, torch);
        assertArrayEquals(torch, there.shape());
        double[] oihw = Layouts.apply(values, hwim, there);
        Layouts.Conversion back = Layouts.plan(TensorRole.DEPTHWISE_OIHW, torch, TensorRole.DEPTHWISE_HWIM, hwim);
        assertArrayEquals(hwim, back.shape());
        assertArrayEquals(values, Layouts.apply(oihw, torch, back), 0.0);
    }

    /** A 2-D convolution (valid, stride 1) of an NHWC input with an HWIO kernel equals the NCHW one with the OIHW kernel. */
    @Property
    void aConvolutionComputesTheSameInBothLayouts(@ForAll @IntRange(min = 1, max = 3) int kh,
                                                  @ForAll @IntRange(min = 1, max = 3) int kw,
                                                  @ForAll @IntRange(min = 1, max = 4) int in,
                                                  @ForAll @IntRange(min = 1, max = 4) int out, @ForAll long seed) {
        Random random = new Random(seed);
        int h = kh + random.nextInt(3);
        int w = kw + random.nextInt(3);
        long[] kernelShape = {kh, kw, in, out};
        double[] kernel = values(random, kernelShape);
        long[] nhwcShape = {1, h, w, in};
        double[] nhwc = values(random, nhwcShape);
        double[] expected = convolveNhwc(nhwc, h, w, in, kernel, kh, kw, out);

        Layouts.Conversion conversion = Layouts.plan(TensorRole.CONV_HWIO, kernelShape, TensorRole.CONV_OIHW,
                new long[] {out, in, kh, kw});
        double[] oihw = Layouts.apply(kernel, kernelShape, conversion);
        double[] nchw = Layouts.permute(nhwc, nhwcShape, new int[] {0, 3, 1, 2});
        double[] actual = convolveNchw(nchw, h, w, in, oihw, kh, kw, out);
        double[] actualNhwc = Layouts.permute(actual, new long[] {1, out, h - kh + 1, w - kw + 1}, new int[] {0, 2, 3, 1});
        assertArrayEquals(expected, actualNhwc, 1e-12);
    }

    /** A depthwise convolution computes the same with Keras's (kh, kw, in, m) kernel and PyTorch's (in·m, 1, kh, kw). */
    @Property
    void aDepthwiseConvolutionComputesTheSameInBothLayouts(@ForAll @IntRange(min = 1, max = 3) int k,
                                                           @ForAll @IntRange(min = 1, max = 4) int in,
                                                           @ForAll @IntRange(min = 1, max = 3) int m, @ForAll long seed) {
        Random random = new Random(seed);
        int size = k + random.nextInt(3);
        long[] kernelShape = {k, k, in, m};
        double[] kernel = values(random, kernelShape);
        double[] nhwc = values(random, new long[] {1, size, size, in});
        int o = size - k + 1;
        double[] expected = new double[o * o * in * m];
        for (int y = 0; y < o; y++) {
            for (int x = 0; x < o; x++) {
                for (int c = 0; c < in; c++) {
                    for (int j = 0; j < m; j++) {
                        double sum = 0;
                        for (int dy = 0; dy < k; dy++) {
                            for (int dx = 0; dx < k; dx++) {
                                sum += nhwc[((y + dy) * size + x + dx) * in + c] * kernel[((dy * k + dx) * in + c) * m + j];
                            }
                        }
                        // Keras's depthwise output channel c·m + j, channels last
                        expected[(y * o + x) * in * m + c * m + j] = sum;
                    }
                }
            }
        }
        long[] torchShape = {(long) in * m, 1, k, k};
        double[] torch = Layouts.apply(kernel, kernelShape, Layouts.plan(TensorRole.DEPTHWISE_HWIM, kernelShape,
                TensorRole.CONV_OIHW, torchShape));
        double[] actual = new double[expected.length];
        for (int f = 0; f < in * m; f++) {
            int c = f / m; // PyTorch's groups: filter f reads input channel f / m
            for (int y = 0; y < o; y++) {
                for (int x = 0; x < o; x++) {
                    double sum = 0;
                    for (int dy = 0; dy < k; dy++) {
                        for (int dx = 0; dx < k; dx++) {
                            sum += nhwc[((y + dy) * size + x + dx) * in + c] * torch[(f * k + dy) * k + dx];
                        }
                    }
                    actual[(y * o + x) * in * m + f] = sum;
                }
            }
        }
        assertArrayEquals(expected, actual, 1e-12);
    }

    @Property
    void aDenseLayerComputesTheSameInBothLayouts(@ForAll @IntRange(min = 1, max = 8) int in,
                                                 @ForAll @IntRange(min = 1, max = 8) int out, @ForAll long seed) {
        Random random = new Random(seed);
        long[] shape = {in, out};
        double[] kernel = values(random, shape);
        double[] x = values(random, new long[] {in});
        double[] linear = Layouts.apply(kernel, shape, Layouts.plan(TensorRole.DENSE_IN_OUT, shape,
                TensorRole.LINEAR_OUT_IN, new long[] {out, in}));
        for (int o = 0; o < out; o++) {
            double keras = 0;
            double torch = 0;
            for (int i = 0; i < in; i++) {
                keras += x[i] * kernel[i * out + o];
                torch += linear[o * in + i] * x[i];
            }
            assertEquals(keras, torch, 1e-12);
        }
    }

    @Property
    void aFlattenedDenseLayerIsNeverMovedBetweenFrameworks(@ForAll @IntRange(min = 1, max = 8) int in,
                                                           @ForAll @IntRange(min = 1, max = 8) int out) {
        Layouts.Conversion conversion = Layouts.plan(TensorRole.DENSE_IN_OUT_FLATTENED, new long[] {in, out},
                TensorRole.LINEAR_OUT_IN, new long[] {out, in});
        assertTrue(!conversion.possible() && conversion.refusal().contains("flattened"), String.valueOf(conversion.refusal()));
    }

    private static double[] convolveNhwc(double[] x, int h, int w, int in, double[] k, int kh, int kw, int out) {
        int oh = h - kh + 1;
        int ow = w - kw + 1;
        double[] y = new double[oh * ow * out];
        for (int r = 0; r < oh; r++) {
            for (int c = 0; c < ow; c++) {
                for (int o = 0; o < out; o++) {
                    double sum = 0;
                    for (int dy = 0; dy < kh; dy++) {
                        for (int dx = 0; dx < kw; dx++) {
                            for (int i = 0; i < in; i++) {
                                sum += x[((r + dy) * w + c + dx) * in + i] * k[((dy * kw + dx) * in + i) * out + o];
                            }
                        }
                    }
                    y[(r * ow + c) * out + o] = sum;
                }
            }
        }
        return y;
    }

    private static double[] convolveNchw(double[] x, int h, int w, int in, double[] k, int kh, int kw, int out) {
        int oh = h - kh + 1;
        int ow = w - kw + 1;
        double[] y = new double[out * oh * ow];
        for (int o = 0; o < out; o++) {
            for (int r = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++) {
                    double sum = 0;
                    for (int dy = 0; dy < kh; dy++) {
                        for (int dx = 0; dx < kw; dx++) {
                            for (int i = 0; i < in; i++) {
                                sum += x[(i * h + r + dy) * w + c + dx] * k[((o * in + i) * kh + dy) * kw + dx];
                            }
                        }
                    }
                    y[(o * oh + r) * ow + c] = sum;
                }
            }
        }
        return y;
    }

    private static long[] randomShape(Random random, int rank) {
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
            shape[d] = 1 + random.nextInt(4);
        }
        return shape;
    }

    private static long[] oihwOf(long[] hwio) {
        return Layouts.permute(hwio, Layouts.hwioToOihw(hwio.length));
    }

    private static long[] depthwiseOihwOf(long[] hwim) {
        int rank = hwim.length;
        long[] shape = new long[rank];
        shape[0] = hwim[rank - 2] * hwim[rank - 1];
        shape[1] = 1;
        System.arraycopy(hwim, 0, shape, 2, rank - 2);
        return shape;
    }

    private static double[] values(Random random, long[] shape) {
        double[] v = new double[Math.toIntExact(io.rechannel.core.Shapes.count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        return v;
    }
}
