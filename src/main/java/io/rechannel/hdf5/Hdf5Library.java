package io.rechannel.hdf5;

import org.bytedeco.javacpp.Loader;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.bytedeco.hdf5.global.hdf5.H5E_DEFAULT;
import static org.bytedeco.hdf5.global.hdf5.H5Eset_auto2;
import static org.bytedeco.hdf5.global.hdf5.H5open;

/**
 * Loads the HDF Group's native library (through JavaCPP) once: about a tenth of a second, so a format
 * that needs it starts the loading on another thread as soon as it is chosen ({@link #loadInBackground}),
 * and {@link Hdf5File} waits for it before its first call. Models in other formats never load it.
 */
public final class Hdf5Library {

    private static final FutureTask<Void> LOADING = new FutureTask<>(Hdf5Library::load, null);
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private Hdf5Library() {
    }

    /** Starts loading the library on a daemon thread, unless that has started already. */
    public static void loadInBackground() {
        if (STARTED.compareAndSet(false, true)) {
            Thread loader = new Thread(LOADING, "hdf5-load");
            loader.setDaemon(true);
            loader.start();
        }
    }

    /** Loads the library on this thread, or waits for the thread loading it; rethrows what the loading threw. */
    static void await() {
        STARTED.set(true);
        LOADING.run(); // returns at once when another thread runs or ran it
        try {
            LOADING.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the HDF5 library loaded", e);
        }
    }

    private static void load() {
        Loader.load(org.bytedeco.hdf5.global.hdf5.class);
        H5open();
        // the library would otherwise print its own error stack to stderr on every failed call
        H5Eset_auto2(H5E_DEFAULT, null, null);
    }
}
