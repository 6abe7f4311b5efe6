package io.rechannel.keras;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads and writes Keras configs as Python's {@code json.dumps} does: {@code ", "} and {@code ": "}
 * separators, non-ASCII escaped, NaN and Infinity bare, key order kept. Only the values rechannel
 * changes differ from the original text.
 */
public final class KerasJson {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            // the caller reads a zip entry to its end after parsing, to check its CRC
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    private KerasJson() {
    }

    public static ObjectNode parseObject(String text, String where) {
        return parse(() -> MAPPER.readTree(text), where);
    }

    /**
     * Parses a JSON object from a stream. A config too large for the memory rechannel was given is
     * reported as such, not as a crash (the stream's own size limit keeps this rare).
     */
    public static ObjectNode parseObject(InputStream in, String where) {
        return parse(() -> MAPPER.readTree(in), where);
    }

    private interface Reader {
        JsonNode read() throws IOException;
    }

    private static ObjectNode parse(Reader reader, String where) {
        try {
            JsonNode node = reader.read();
            if (!(node instanceof ObjectNode object)) {
                throw RechannelException.malformed(where + " is not a JSON object");
            }
            return object;
        } catch (JsonProcessingException e) {
            throw RechannelException.malformed(where + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw RechannelException.malformed(where + ": cannot read: " + e.getMessage());
        } catch (OutOfMemoryError e) {
            throw RechannelException.unsupported(where + ": too large to read in the memory given to rechannel"
                    + " (raise it with RECHANNEL_JAVA_OPTS=-Xmx...)");
        }
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writer(new PythonStylePrinter()).writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a config", e);
        }
    }

    /** {@code json.dumps} spacing. */
    private static final class PythonStylePrinter extends MinimalPrettyPrinter {
        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }
    }
}
