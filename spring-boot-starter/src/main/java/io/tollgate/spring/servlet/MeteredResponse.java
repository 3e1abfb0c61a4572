package io.tollgate.spring.servlet;

import io.tollgate.spring.web.AnswerMeter;
import io.tollgate.usage.TokenUsage;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.Optional;

/**
 * A response that passes every byte on unchanged and meters the usage in it. Not thread-safe, as a servlet response
 * is not.
 */
final class MeteredResponse extends HttpServletResponseWrapper {

    private final int maxJsonBytes;
    private AnswerMeter meter;
    private ServletOutputStream out;
    private PrintWriter writer;

    MeteredResponse(HttpServletResponse response, int maxJsonBytes) {
        super(response);
        this.maxJsonBytes = maxJsonBytes;
    }

    Optional<TokenUsage> usage() {
        if (writer != null) {
            writer.flush();
        }
        return meter == null ? Optional.empty() : meter.usage();
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (writer != null) {
            throw new IllegalStateException("getWriter() was called on this response already");
        }
        if (out == null) {
            out = new Metering(super.getOutputStream());
        }
        return out;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            if (out != null) {
                throw new IllegalStateException("getOutputStream() was called on this response already");
            }
            out = new Metering(super.getOutputStream());
            writer = new PrintWriter(new OutputStreamWriter(out, Charset.forName(getCharacterEncoding())));
        }
        return writer;
    }

    @Override
    public void flushBuffer() throws IOException {
        if (writer != null) {
            writer.flush();
        }
        super.flushBuffer();
    }

    private void meter(byte[] bytes, int offset, int length) {
        if (meter == null) {
            meter = AnswerMeter.forContentType(getContentType(), maxJsonBytes);
        }
        meter.accept(ByteBuffer.wrap(bytes, offset, length).asReadOnlyBuffer());
    }

    private final class Metering extends ServletOutputStream {

        private final ServletOutputStream target;

        Metering(ServletOutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            target.write(b);
            meter(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            target.write(bytes, offset, length);
            meter(bytes, offset, length);
        }

        @Override
        public void flush() throws IOException {
            target.flush();
        }

        @Override
        public void close() throws IOException {
            target.close();
        }

        @Override
        public boolean isReady() {
            return target.isReady();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            target.setWriteListener(listener);
        }
    }
}
