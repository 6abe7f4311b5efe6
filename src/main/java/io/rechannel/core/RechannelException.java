package io.rechannel.core;

/**
 * The one exception rechannel throws for anything the user can act on. Its message is a single line
 * that names the file, layer or tensor concerned, what was expected and what was found.
 */
public class RechannelException extends RuntimeException {

    /** What went wrong, which also decides the command-line exit code. */
    public enum Kind {
        /** Wrong or inconsistent command-line arguments. */
        USAGE(2),
        /** The file cannot be read: missing, unreadable, or an output that may not be written. */
        IO(3),
        /** The file is not what it claims to be, or is damaged. */
        MALFORMED_FILE(4),
        /** The file is valid but uses something rechannel does not handle. */
        UNSUPPORTED(5),
        /** A layer's channel behaviour cannot be read from the model; the user must say what it does. */
        AMBIGUOUS_CHANNELS(6),
        /** The requested adaptation cannot be made exactly, or verification found a difference. */
        INEXACT(7),
        /**
         * Verification cannot prove anything from the weights: the channel map cannot be recovered from them
         * (the original's channel slices are linearly dependent, e.g. all zero), or every tap is zero.
         */
        UNPROVABLE(8);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    private final Kind kind;

    public RechannelException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RechannelException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static RechannelException usage(String message) {
        return new RechannelException(Kind.USAGE, message);
    }

    public static RechannelException malformed(String message) {
        return new RechannelException(Kind.MALFORMED_FILE, message);
    }

    public static RechannelException unsupported(String message) {
        return new RechannelException(Kind.UNSUPPORTED, message);
    }

    public static RechannelException inexact(String message) {
        return new RechannelException(Kind.INEXACT, message);
    }

    public static RechannelException unprovable(String message) {
        return new RechannelException(Kind.UNPROVABLE, message);
    }
}
