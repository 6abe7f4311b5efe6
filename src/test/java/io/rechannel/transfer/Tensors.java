package io.rechannel.transfer;

import io.rechannel.format.ModelFormats;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorStore;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every tensor of a model file, read through its format's tensor store, for comparisons in tests. */
record Tensors(Map<String, long[]> shapes, Map<String, double[]> values) {

    static Tensors of(Path file) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, double[]> values = new LinkedHashMap<>();
        try (TensorStore store = ModelFormats.forFile(file).openTensors(file).orElseThrow()) {
            for (NamedTensor t : store.tensors()) {
                shapes.put(t.name(), t.shape());
                if (t.isFloating()) {
                    values.put(t.name(), store.read(t));
                }
            }
        }
        return new Tensors(shapes, values);
    }

    double[] get(String name) {
        double[] v = values.get(name);
        if (v == null) {
            throw new AssertionError("no tensor " + name + " among " + values.keySet());
        }
        return v;
    }

    /** Same names, shapes and values, bit for bit, except the tensors named in {@code except}. */
    void assertSameAs(Tensors other, String... except) {
        assertEquals(shapes.keySet(), other.shapes.keySet(), "tensor names");
        java.util.Set<String> skip = java.util.Set.of(except);
        for (String name : shapes.keySet()) {
            assertArrayEquals(other.shapes.get(name), shapes.get(name), name + " shape");
            if (!skip.contains(name) && values.containsKey(name)) {
                assertArrayEquals(other.values.get(name), values.get(name), 0.0, name);
            }
        }
    }
}
