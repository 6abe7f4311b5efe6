package io.rechannel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.PrintWriter;

/** Writes results as JSON for {@code --json}. */
final class Output {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Output() {
    }

    /** One line of JSON, for errors. */
    static void jsonLine(PrintWriter out, Object value) {
        try {
            out.println(new ObjectMapper().writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code value} as indented JSON, every option its messages name shown as its flag. */
    static void json(PrintWriter out, Object value) {
        try {
            out.println(Flags.render(JSON.writeValueAsString(value)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
