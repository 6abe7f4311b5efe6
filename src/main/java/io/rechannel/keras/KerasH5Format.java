package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.Hdf5File;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Keras legacy HDF5 models and weights ({@code .h5}, {@code .hdf5}), as written by Keras 1 to 3. */
public final class KerasH5Format implements ModelFormat {

    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    @Override
    public String name() {
        return "keras-h5";
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
    public Inspection inspect(Path file, AdaptOptions options) {
        try (Hdf5File h5 = Hdf5File.open(file, false)) {
            KerasH5Model model = KerasH5Model.read(h5, file.toString(), options.layer());
            return new KerasInspector(model, file.toString()).inspect(options);
        }
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        String source = input.toString();
        try (AtomicOutput out = AtomicOutput.create(input, output, overwrite)) {
            // the byte copy runs while the adaptation is computed from the input
            out.startCopyFrom(input);
            PendingWrites writes;
            String config = null;
            AdaptResult result;
            try (Hdf5File h5 = Hdf5File.open(input, false)) {
                KerasH5Model model = KerasH5Model.read(h5, source, options.layer());
                KerasPlan plan = new KerasPlanner(model.graph(), model.store(), source).plan(options);
                ChannelMap map = options.channelMap(plan.channels(), source);
                if (map.isIdentity()) {
                    throw RechannelException.usage(source + ": --to " + map.to() + " keeps every channel as it is; nothing to do");
                }
                checkOptimizer(model, plan, options, source);
                KerasAdapter adapter = new KerasAdapter(plan, map, options, source);
                writes = new PendingWrites(model.store());
                adapter.adaptWeights(writes);
                List<String> notes = new ArrayList<>();
                if (model.hasConfig()) {
                    adapter.adaptConfig();
                    config = KerasJson.write(model.graph().root());
                } else {
                    notes.add("weights-only file: '" + plan.mixed().get(0).layer().name()
                            + "' was taken as the input layer (first layer with a kernel; choose another with --layer)");
                }
                List<String> changes = new ArrayList<>(adapter.changes());
                if (options.dropOptimizer() && model.store().hasOptimizer()) {
                    changes.add("/optimizer_weights removed (--drop-optimizer)");
                }
                result = new AdaptResult(source, output.toString(), map.from().toString(), map.to().toString(),
                        map.rules(), changes, notes, null);
            }
            out.awaitCopy();
            try (Hdf5File h5 = Hdf5File.open(out.path(), true)) {
                writes.applyTo(h5);
                if (config != null) {
                    h5.writeString("/", "model_config", config);
                }
                if (options.dropOptimizer() && h5.isGroup("/optimizer_weights")) {
                    h5.delete("/optimizer_weights");
                }
                h5.flush();
            }
            out.commit();
            return result;
        }
    }

    private static void checkOptimizer(KerasH5Model model, KerasPlan plan, AdaptOptions options, String source) {
        if (options.dropOptimizer()) {
            return;
        }
        for (KerasPlan.ViewedWeight mixed : plan.mixed()) {
            if (model.store().optimizerSlots(mixed.weight()).isEmpty()
                    && !model.store().anonymousOptimizerSlots(mixed.weight()).isEmpty()) {
                throw RechannelException.unsupported(source + ": the optimizer state does not name the variables it"
                        + " belongs to (Keras 2.2 and older), so the slots of '" + mixed.layer().path()
                        + "' cannot be found; pass --drop-optimizer to remove the optimizer state");
            }
        }
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        try (Hdf5File before = Hdf5File.open(original, false); Hdf5File after = Hdf5File.open(adapted, false)) {
            KerasH5Model oldModel = KerasH5Model.read(before, original.toString(), options.layer());
            KerasH5Model newModel = KerasH5Model.read(after, adapted.toString(), options.layer());
            return new KerasVerifier(oldModel, newModel, original.toString(), adapted.toString()).verify(options);
        }
    }

    static Map<String, List<Long>> shapes(List<KerasWeight> weights) {
        Map<String, List<Long>> shapes = new LinkedHashMap<>();
        for (KerasWeight weight : weights) {
            shapes.put(weight.name(), Arrays.stream(weight.shape()).boxed().toList());
        }
        return shapes;
    }

    static ChannelLayout layoutOf(AdaptOptions options, int channels) {
        return options.from() != null ? options.from() : ChannelLayout.defaultFor(channels);
    }
}
