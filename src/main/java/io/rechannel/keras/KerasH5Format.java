package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.TensorStore;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.hdf5.Hdf5Library;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Map;

/** Keras legacy HDF5 models and weights ({@code .h5}, {@code .hdf5}), as written by Keras 1 to 3. */
public final class KerasH5Format implements ModelFormat {

    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    @Override
    public String name() {
        return "keras-h5";
    }

    @Override
    public String description() {
        return "Keras .h5/.hdf5 and Keras 3 .weights.h5";
    }

    @Override
    public boolean accepts(Path file) {
        byte[] head = ModelFormats.head(file, HDF5_SIGNATURE.length);
        if (Arrays.equals(head, HDF5_SIGNATURE)) {
            return true;
        }
        String name = file.getFileName().toString().toLowerCase();
        return name.endsWith(".h5") || name.endsWith(".hdf5");
    }

    @Override
    public Optional<TensorStore> openTensors(Path file) {
        return Optional.of(KerasTensorStore.openH5(file));
    }

    @Override
    public void prepare() {
        Hdf5Library.loadInBackground();
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        options.refuseUnused(file.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        try (Hdf5File h5 = Hdf5File.open(file, false)) {
            return new KerasInspector(open(h5, file.toString(), options), file.toString(), name()).inspect(options);
        }
    }

    /** A legacy model or weights file, or a Keras 3 weights file (with --config or --layer). */
    static KerasModelView open(Hdf5File h5, String source, AdaptOptions options) {
        if (KerasV3Model.isV3Weights(h5)) {
            if (options.formatOptions().config() != null && options.formatOptions().layer() != null) {
                throw RechannelException.usage(source + ": give either " + OptionName.CONFIG + " or " + OptionName.LAYER
                        + ", not both: " + OptionName.LAYER + " names the layer only when the model config is missing");
            }
            return KerasV3Model.weightsOnly(h5, options.formatOptions().config(), options.formatOptions().layer(), source);
        }
        if (options.formatOptions().config() != null) {
            throw RechannelException.usage(source + ": " + OptionName.CONFIG + " applies only to Keras 3 .weights.h5 files; this is a"
                    + " legacy Keras file" + (KerasH5Model.hasConfig(h5) ? " with its own config" : ""));
        }
        if (options.formatOptions().layer() != null && KerasH5Model.hasConfig(h5)) {
            throw RechannelException.usage(source + ": " + OptionName.LAYER + " applies only to weights files without a model config;"
                    + " this file has its config (choose among several inputs with " + OptionName.INPUT + ")");
        }
        return KerasH5Model.read(h5, source, options.formatOptions().layer());
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        options.refuseUnused(input.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        String source = input.toString();
        try (AtomicOutput out = AtomicOutput.create(input, output, overwrite)) {
            // the byte copy runs while the adaptation is computed from the input
            out.startCopyFrom(input);
            KerasExtension.Computed computed;
            // the input stays open while the kernels are re-mixed from it into the copy
            try (Hdf5File h5 = Hdf5File.open(input, false)) {
                KerasModelView model = open(h5, source, options);
                boolean v3 = model instanceof KerasV3Model;
                PendingWrites writes = new PendingWrites(model.store());
                computed = KerasExtension.compute(model, writes, options, source, output.toString());
                out.awaitCopy();
                // the copy holds the input's bytes: damage found while editing it is the input's
                try (Hdf5File copy = Hdf5File.open(out.path(), true, source)) {
                    writes.applyTo(copy);
                    if (computed.config() != null && !v3) {
                        copy.writeString("/", "model_config", computed.config());
                    }
                    copy.flush();
                }
            }
            out.commit();
            return computed.result();
        }
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        options.refuseUnused(original.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        try (Hdf5File before = Hdf5File.open(original, false); Hdf5File after = Hdf5File.open(adapted, false)) {
            return KerasExtension.verify(open(before, original.toString(), options), open(after, adapted.toString(), options),
                    original.toString(), adapted.toString(), options);
        }
    }

    static Map<String, List<Long>> shapes(List<KerasWeight> weights) {
        Map<String, List<Long>> shapes = new LinkedHashMap<>();
        for (KerasWeight weight : weights) {
            shapes.put(weight.name(), Arrays.stream(weight.shape()).boxed().toList());
        }
        return shapes;
    }

}
