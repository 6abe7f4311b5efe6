package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.hdf5.H5L_info2_t;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * Checks the links on the way to an object before the library follows them: rechannel reads only the
 * model's own file, so an external link (to another file) or a user-defined link is refused by name; a
 * soft link is followed when it leads to an object of the same file and refused as damage when it
 * leads nowhere (dangling, or a loop).
 */
final class LinkCheck {

    private final long fileId;
    private final String label;
    /** Paths whose every link is known to be safe; cleared whenever the file changes. */
    private final Set<String> safe = new HashSet<>();

    LinkCheck(long fileId, String label) {
        this.fileId = fileId;
        this.label = label;
    }

    /** True when every component of {@code objectPath} exists; fails on a link rechannel does not follow. */
    boolean walk(String objectPath) {
        if (objectPath.equals("/") || safe.contains(objectPath)) {
            return true;
        }
        StringBuilder prefix = new StringBuilder();
        for (String part : objectPath.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            prefix.append('/').append(part);
            String at = prefix.toString();
            if (safe.contains(at)) {
                continue;
            }
            if (H5Lexists(fileId, at, H5P_DEFAULT) <= 0) {
                return false;
            }
            checkLink(at);
            safe.add(at);
        }
        return true;
    }

    /** Forgets what was checked (after links were added, moved or removed). */
    void reset() {
        safe.clear();
    }

    private void checkLink(String at) {
        try (H5L_info2_t info = new H5L_info2_t()) {
            if (H5Lget_info2(fileId, at, info, H5P_DEFAULT) < 0) {
                throw RechannelException.malformed(label + ": cannot read the link " + at + " (damaged file)");
            }
            int type = info.type();
            if (type == H5L_TYPE_HARD) {
                return;
            }
            String[] value = linkValue(at, info.u_val_size());
            if (type == H5L_TYPE_SOFT) {
                int exists = H5Oexists_by_name(fileId, at, H5P_DEFAULT);
                if (exists <= 0) {
                    throw RechannelException.malformed(label + ": " + at + " is a soft link to " + value[0] + ", which "
                            + (exists == 0 ? "does not exist" : "does not resolve (a loop of links?)") + " (damaged file)");
                }
                return;
            }
            if (type == H5L_TYPE_EXTERNAL) {
                throw RechannelException.unsupported(label + ": " + at + " is an external link to " + value[1] + " in "
                        + value[0] + "; rechannel reads only the model's own file");
            }
            throw RechannelException.unsupported(label + ": " + at + " is a user-defined link (type " + type
                    + "); rechannel follows only links within the file");
        }
    }

    /** A soft link's target path, or an external link's file and object; best effort, for messages. */
    private String[] linkValue(String at, long size) {
        if (size <= 0 || size > 1 << 16) {
            return new String[] {"?", "?"};
        }
        byte[] buffer = new byte[(int) size];
        try (org.bytedeco.javacpp.BytePointer pointer = new org.bytedeco.javacpp.BytePointer(size)) {
            if (H5Lget_val(fileId, at, pointer, size, H5P_DEFAULT) < 0) {
                return new String[] {"?", "?"};
            }
            pointer.get(buffer);
        }
        // soft: "target\0"; external: one flags byte, then "file\0object\0"
        String text = new String(buffer, StandardCharsets.UTF_8);
        String[] soft = text.split("\0", -1);
        String[] external = text.length() > 1 ? text.substring(1).split("\0", -1) : new String[] {"?"};
        return new String[] {soft[0].isEmpty() ? external[0] : soft[0], external.length > 1 ? external[1] : "?"};
    }
}
