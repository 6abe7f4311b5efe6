package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.TensorStore;
import io.rechannel.format.Progress;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.hdf5.Hdf5Library;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Keras 3 {@code .keras} archives ({@code model.save('x.keras')}). */
public final class KerasArchiveFormat implements ModelFormat {

    @Override
    public String name() {
        return "keras";
    }

    @Override
    public String description() {
        return "Keras .keras";
    }

    @Override
    public void prepare() {
        Hdf5Library.loadInBackground();
    }

    /** By name alone: a damaged archive is reported as a damaged .keras, not as an unknown kind of file. */
    @Override
    public boolean accepts(Path file) {
        return file.getFileName().toString().toLowerCase().endsWith(".keras");
    }

    /**
     * A .keras archive opened for reading: its config parsed, its weights copied out to a scratch file
     * HDF5 can open. Whatever fails on the way, the scratch file is removed.
     */
    static final class Opened implements AutoCloseable {
        final KerasArchive archive;
        final Path weights;
        final Hdf5File h5;
        final KerasV3Model model;

        Opened(Path file, Path scratchDir, boolean writable, AdaptOptions options) {
            String source = file.toString();
            archive = KerasArchive.open(file);
            Path scratch = null;
            Hdf5File opened = null;
            boolean complete = false;
            try {
                refuseWeightsOptions(options, source);
                ObjectNode config = archive.readJson(KerasArchive.CONFIG);
                String version = metadataVersion(archive);
                scratch = scratchFile(scratchDir, file.getFileName() + ".");
                Path target = scratch;
                // copy the weights out while the native HDF5 library loads
                var extraction = CompletableFuture.runAsync(() -> archive.extract(KerasArchive.WEIGHTS, target));
                try {
                    Hdf5File.preload();
                } finally {
                    join(extraction);
                }
                opened = Hdf5File.open(scratch, writable, archive.label(KerasArchive.WEIGHTS));
                model = KerasV3Model.withConfig(opened, config, version, source);
                weights = scratch;
                h5 = opened;
                complete = true;
            } finally {
                if (!complete) {
                    if (opened != null) {
                        opened.close();
                    }
                    close(archive, scratch);
                }
            }
        }

        @Override
        public void close() {
            h5.close();
            close(archive, weights);
        }

        /** Closes the HDF5 file, so that its bytes are complete on disk for the archive. */
        void finishWeights() {
            h5.close();
        }

        private static void close(KerasArchive archive, Path weights) {
            archive.close();
            deleteScratch(weights);
        }
    }

    /** --layer and --config stand in for a missing config; an archive has its own. */
    private static void refuseWeightsOptions(AdaptOptions options, String source) {
        if (options.formatOptions().layer() != null) {
            throw RechannelException.usage(source + ": " + OptionName.LAYER
                    + " applies only to weights files without a model config;"
                    + " this archive has its config");
        }
        if (options.formatOptions().config() != null) {
            throw RechannelException.usage(source + ": " + OptionName.CONFIG + " applies only to Keras 3 .weights.h5 files;"
                    + " this archive has its own config");
        }
    }

    private static Path scratchFile(Path dir, String prefix) {
        try {
            return Files.createTempFile(dir, "." + prefix, ".part");
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, dir + ": cannot write a scratch file: "
                    + e.getMessage(), e);
        }
    }

    private static void deleteScratch(Path scratch) {
        if (scratch == null) {
            return;
        }
        try {
            Files.deleteIfExists(scratch);
        } catch (IOException ignored) {
            // a scratch file named .*.part may remain
        }
    }

    /** Waits for work on another thread, rethrowing its failure as it was thrown. */
    private static void join(CompletableFuture<Void> work) {
        try {
            work.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    private static String metadataVersion(KerasArchive archive) {
        if (!archive.has(KerasArchive.METADATA)) {
            return "";
        }
        return archive.readJson(KerasArchive.METADATA).path("keras_version").asText("");
    }

    @Override
    public Optional<TensorStore> openTensors(Path file) {
        return Optional.of(KerasTensorStore.openArchive(file));
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        options.refuseUnused(file.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        try (Opened opened = new Opened(file, Path.of(System.getProperty("java.io.tmpdir")), false, options)) {
            return new KerasInspector(opened.model, file.toString(), name()).inspect(options);
        }
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        options.refuseUnused(input.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        try (AtomicOutput out = AtomicOutput.create(input, output, overwrite)) {
            InPlaceOutcome inPlaceOutcome = null;
            try (KerasArchive archive = KerasArchive.open(input)) {
                refuseWeightsOptions(options, input.toString());
                InPlaceArchive inPlace = InPlaceArchive.plan(archive);
                if (inPlace != null) {
                    inPlaceOutcome = extendInPlace(archive, inPlace, out.path(), output, options);
                    if (inPlaceOutcome.writtenInPlace()) {
                        out.commit();
                        return inPlaceOutcome.computed().result();
                    }
                }
            }
            AdaptResult result = extendByRewriting(input, out.path(), output, options, inPlaceOutcome);
            out.commit();
            return result;
        }
    }

    /**
     * An adaptation computed once, its variable writes deferred: {@code writtenInPlace} when they and the new
     * config went into the output where the weights lie.
     */
    private record InPlaceOutcome(KerasExtension.Computed computed, PendingWrites writes, boolean writtenInPlace) {
    }

    /**
     * The weights are copied once into the output, at an offset where HDF5 can edit them in place; the
     * rest of the archive is then written around them. Not written in place when the new config (or the
     * edited weights) do not fit: the computed adaptation is then written by rewriting the archive.
     */
    private static InPlaceOutcome extendInPlace(KerasArchive archive, InPlaceArchive inPlace, Path work, Path output,
                                                AdaptOptions options) {
        String source = archive.path().toString();
        var copy = CompletableFuture.runAsync(Progress.carried(() -> inPlace.placeWeights(work, output)));
        ObjectNode config;
        String version;
        try {
            config = archive.readJson(KerasArchive.CONFIG);
            version = metadataVersion(archive);
            Hdf5File.preload();
        } finally {
            join(copy);
        }
        KerasExtension.Computed computed;
        PendingWrites writes;
        byte[] configBytes;
        try (Hdf5File h5 = Hdf5File.open(work, true, archive.label(KerasArchive.WEIGHTS))) {
            KerasV3Model model = KerasV3Model.withConfig(h5, config, version, source);
            writes = new PendingWrites(model.store());
            computed = KerasExtension.compute(model, writes, options, source, output.toString());
            configBytes = computed.config().getBytes(StandardCharsets.UTF_8);
            if (!inPlace.fits(configBytes)) {
                return new InPlaceOutcome(computed, writes, false);
            }
            writes.applyTo(h5);
        }
        return new InPlaceOutcome(computed, writes, inPlace.finish(work, output, configBytes));
    }

    /**
     * The general way: weights copied out, adapted, and the archive rewritten entry by entry; the adaptation computed
     * on the way to editing in place ({@code inPlace}, when not null) is written as it was computed.
     */
    private static AdaptResult extendByRewriting(Path input, Path work, Path output, AdaptOptions options,
                                                 InPlaceOutcome inPlace) {
        String source = input.toString();
        Path dir = work.getParent();
        Path config = null;
        try (Opened opened = new Opened(input, dir, true, options)) {
            KerasExtension.Computed result;
            if (inPlace == null) {
                PendingWrites writes = new PendingWrites(opened.model.store());
                result = KerasExtension.compute(opened.model, writes, options, source, output.toString());
                writes.applyTo(opened.h5);
            } else {
                result = inPlace.computed();
                inPlace.writes().applyTo(opened.h5, opened.model.store());
            }
            opened.finishWeights();
            config = scratchFile(dir, output.getFileName() + ".config.json.");
            Files.writeString(config, result.config(), StandardCharsets.UTF_8);
            List<String> recoded = opened.archive.writeCopy(work, output,
                    Map.of(KerasArchive.CONFIG, config, KerasArchive.WEIGHTS, opened.weights));
            return result.result().withNotes(recoded);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": " + e.getMessage(), e);
        } finally {
            deleteScratch(config);
        }
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        options.refuseUnused(original.toString(), description(), Set.of(OptionName.LAYER, OptionName.CONFIG));
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        try (Opened before = new Opened(original, scratch, false, options);
             Opened after = new Opened(adapted, scratch, false, options)) {
            return KerasExtension.verify(before.model, after.model, original.toString(), adapted.toString(), options);
        }
    }
}
