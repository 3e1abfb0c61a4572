package io.tollgate.internal.config;

import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.io.ContentReference;

import java.io.IOException;
import java.io.Reader;

/**
 * The text SnakeYAML reads: in whole chunks, and with no line longer than {@link ConfigMapper#MAX_YAML_LINE_CHARS}.
 *
 * <p>SnakeYAML copies the part of a line it has not consumed yet every time it reads more, so one long unbroken
 * value costs time that grows with the square of its length (a 50 MB value would take minutes). Bounding lines, and
 * handing it large chunks, keeps the cost of a document linear in its length. Not thread-safe, like any reader.
 */
final class YamlText extends Reader {

    private final Reader in;
    private int line = 1;
    private int lineLength;
    private boolean afterCarriageReturn;

    YamlText(Reader in) {
        this.in = in;
    }

    @Override
    public int read(char[] buffer, int offset, int length) throws IOException {
        int filled = 0;
        while (filled < length) {
            int read = in.read(buffer, offset + filled, length - filled);
            if (read < 0) {
                break;
            }
            countLines(buffer, offset + filled, read);
            filled += read;
        }
        return filled == 0 && length > 0 ? -1 : filled;
    }

    private void countLines(char[] buffer, int from, int count) {
        for (int i = from; i < from + count; i++) {
            char c = buffer[i];
            if (c == '\n' || c == '\r') {
                if (!(c == '\n' && afterCarriageReturn)) {
                    line++;
                }
                afterCarriageReturn = c == '\r';
                lineLength = 0;
            } else {
                afterCarriageReturn = false;
                if (++lineLength > ConfigMapper.MAX_YAML_LINE_CHARS) {
                    throw new StreamConstraintsException("Line length (" + lineLength + ") exceeds the maximum allowed ("
                            + ConfigMapper.MAX_YAML_LINE_CHARS + ")",
                            new TokenStreamLocation(ContentReference.unknown(), -1, -1, line, lineLength));
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
