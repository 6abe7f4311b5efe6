package io.rechannel.core;

/** A tensor to read block by block: how it is laid out, and where its blocks come from. */
public record StoredTensor(TensorLayout layout, Blocks.Reader reader) {

    /** A tensor held in memory, laid out exactly as its view. */
    public static StoredTensor inMemory(double[] values, AxisView view) {
        TensorLayout layout = TensorLayout.of(view);
        return new StoredTensor(layout, Blocks.reader(values, layout.shape()));
    }

    /** The values of one block, in row-major order. */
    public double[] read(TensorLayout.Block block) {
        Hyperslab slab = layout.hyperslab(block);
        double[] values = new double[Math.toIntExact(slab.size())];
        reader.read(slab, values);
        return values;
    }
}
