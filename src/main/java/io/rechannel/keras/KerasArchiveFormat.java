package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.Inspection;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.hdf5.Hdf5Library;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** Keras 3 {@code .keras} archives ({@code model.save('x.keras')}). */
public final class KerasArchiveFormat implements ModelFormat {

    private static final byte[] ZIP_SIGNATURE = {'P', 'K', 3, 4};

    @Override
    public String name() {
        return "keras";
    }

    @Override
    public boolean accepts(Path file) {
        return Arrays.equals(ModelFormats.head(file, 4), ZIP_SIGNATURE)
                && file.getFileName().toString().toLowerCase().endsWith(".keras");
    }

    @Override
    public void prepare() {
        Hdf5Library.loadInBackground();
    }

    /** A .keras archive opened for reading: its weights copied out to a scratch file HDF5 can open. */
    private static final class Opened implements AutoCloseable {
        final KerasArchive archive;
        final Path weights;
        final Hdf5File h5;
        final KerasV3Model model;

        Opened(Path file, Path scratchDir, boolean writable) {
            String source = file.toString();
            archive = KerasArchive.open(file);
            try {
                weights = Files.createTempFile(scratchDir, "." + file.getFileName() + ".", ".weights.h5.part");
            } catch (IOException e) {
                archive.close();
                throw new RechannelException(RechannelException.Kind.IO, scratchDir + ": cannot write a scratch file: "
                        + e.getMessage(), e);
            }
            Hdf5File opened = null;
            try {
                // copy the weights out while the native HDF5 library loads
                var extraction = java.util.concurrent.CompletableFuture.runAsync(
                        () -> archive.extract(KerasArchive.WEIGHTS, weights));
                Hdf5File.preload();
                try {
                    extraction.join();
                } catch (java.util.concurrent.CompletionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
                opened = Hdf5File.open(weights, writable);
                String version = metadataVersion(archive);
                model = KerasV3Model.withConfig(opened, archive.readText(KerasArchive.CONFIG), version, source);
                h5 = opened;
            } catch (RuntimeException e) {
                if (opened != null) {
                    opened.close();
                }
                close(archive, weights);
                throw e;
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
            try {
                Files.deleteIfExists(weights);
            } catch (IOException ignored) {
                // a scratch file named .*.part may remain
            }
        }
    }

    private static String metadataVersion(KerasArchive archive) {
        if (!archive.entryNames().contains("metadata.json")) {
            return "";
        }
        JsonNode metadata = KerasJson.parseObject(archive.readText("metadata.json"), "metadata.json");
        return metadata.path("keras_version").asText("");
    }

    private static Path scratchDir(Path near) {
        Path dir = near.toAbsolutePath().getParent();
        return dir != null && Files.isWritable(dir) ? dir : Path.of(System.getProperty("java.io.tmpdir"));
    }

    @Override
    public Inspection inspect(Path file, AdaptOptions options) {
        try (Opened opened = new Opened(file, Path.of(System.getProperty("java.io.tmpdir")), false)) {
            return new KerasInspector(opened.model, file.toString(), name()).inspect(options);
        }
    }

    @Override
    public AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options) {
        try (AtomicOutput out = AtomicOutput.create(input, output, overwrite)) {
            InPlaceArchive inPlace;
            try (KerasArchive archive = KerasArchive.open(input)) {
                inPlace = InPlaceArchive.plan(input, archive.entries());
                if (inPlace != null) {
                    AdaptResult result = extendInPlace(archive, inPlace, out.path(), output, options);
                    if (result != null) {
                        out.commit();
                        return result;
                    }
                }
            }
            AdaptResult result = extendByRewriting(input, out.path(), output, options);
            out.commit();
            return result;
        }
    }

    /**
     * The weights are copied once into the output, at an offset where HDF5 can edit them in place; the
     * rest of the archive is then written around them. Null when the new config does not fit.
     */
    private static AdaptResult extendInPlace(KerasArchive archive, InPlaceArchive inPlace, Path work, Path output,
                                             AdaptOptions options) {
        String source = archive.path().toString();
        var copy = java.util.concurrent.CompletableFuture.runAsync(() -> inPlace.placeWeights(work, archive));
        String config = archive.readText(KerasArchive.CONFIG);
        String version = metadataVersion(archive);
        Hdf5File.preload();
        try {
            copy.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        KerasExtension.Computed computed;
        try (Hdf5File h5 = Hdf5File.open(work, true)) {
            KerasV3Model model = KerasV3Model.withConfig(h5, config, version, source);
            computed = KerasExtension.compute(model, model.store(), options, source, output.toString());
            if (options.dropOptimizer() && h5.isGroup("/optimizer")) {
                h5.delete("/optimizer");
            }
        }
        return inPlace.finish(work, computed.config().getBytes(StandardCharsets.UTF_8)) ? computed.result() : null;
    }

    /** The general way: weights copied out, adapted, and the archive rewritten entry by entry. */
    private static AdaptResult extendByRewriting(Path input, Path work, Path output, AdaptOptions options) {
        String source = input.toString();
        Path dir = work.getParent();
        Path config = null;
        try (Opened opened = new Opened(input, dir, true)) {
            KerasExtension.Computed computed = KerasExtension.compute(opened.model, opened.model.store(), options,
                    source, output.toString());
            if (options.dropOptimizer() && opened.h5.isGroup("/optimizer")) {
                opened.h5.delete("/optimizer");
            }
            opened.finishWeights();
            config = Files.createTempFile(dir, "." + output.getFileName() + ".", ".config.json.part");
            Files.writeString(config, computed.config(), StandardCharsets.UTF_8);
            opened.archive.writeCopy(work, Map.of(KerasArchive.CONFIG, config, KerasArchive.WEIGHTS, opened.weights));
            return computed.result();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": " + e.getMessage(), e);
        } finally {
            if (config != null) {
                try {
                    Files.deleteIfExists(config);
                } catch (IOException ignored) {
                    // a scratch file named .*.part may remain
                }
            }
        }
    }

    @Override
    public VerifyResult verify(Path original, Path adapted, AdaptOptions options) {
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        try (Opened before = new Opened(original, scratch, false); Opened after = new Opened(adapted, scratch, false)) {
            return new KerasVerifier(before.model, after.model, original.toString(), adapted.toString()).verify(options);
        }
    }
}
