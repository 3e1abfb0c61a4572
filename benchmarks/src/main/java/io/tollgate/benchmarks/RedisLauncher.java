package io.tollgate.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away {@code redis-server} on a free local port, without persistence, for benchmarks and load runs on a
 * machine where no Redis was given. {@link #uri()} is the address to connect to; {@link #close()} stops the server.
 *
 * <p>Where a Redis is given, {@link #configuredUri()} names it: the system property {@code tollgate.redis.uri}, else
 * the environment variable {@code TOLLGATE_REDIS_URI}.
 *
 * <p>Thread-safe: immutable once started.
 */
public final class RedisLauncher implements AutoCloseable {

    /** The environment variable that names a Redis to use instead of starting one. */
    public static final String URI_VARIABLE = "TOLLGATE_REDIS_URI";
    /** The system property that names a Redis to use; wins over {@link #URI_VARIABLE}. */
    public static final String URI_PROPERTY = "tollgate.redis.uri";

    private static final Duration STARTUP = Duration.ofSeconds(10);

    private final Process process;
    private final int port;
    // A JVM that exits without closing the launcher (a benchmark fork that gave up on a stuck iteration) must not
    // leave its server running.
    private final Thread stopOnExit;

    private RedisLauncher(Process process, int port) {
        this.process = process;
        this.port = port;
        this.stopOnExit = new Thread(process::destroy, "redis-server-" + port + "-stop");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /** The Redis named by {@value #URI_PROPERTY} or {@value #URI_VARIABLE}, or {@code null} when neither is set. */
    public static String configuredUri() {
        String uri = System.getProperty(URI_PROPERTY);
        if (uri == null || uri.isBlank()) {
            uri = System.getenv(URI_VARIABLE);
        }
        return uri == null || uri.isBlank() ? null : uri;
    }

    /**
     * Starts {@code redis-server} from the {@code PATH} on a free port and waits until it answers {@code PING}.
     *
     * @throws IllegalStateException when the binary is missing or the server does not come up, saying how to give a
     *                               Redis instead
     */
    public static RedisLauncher start() {
        return start(List.of());
    }

    /**
     * Starts {@code redis-server} as {@link #start()} does, with {@code prefix} in front of it (a command and its
     * arguments, such as {@code taskset -c 1}), or with none when it is empty.
     */
    public static RedisLauncher start(List<String> prefix) {
        int port = freePort();
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("redis-server", "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (" + e.getMessage() + "): put redis-server on "
                    + "the PATH or set " + URI_VARIABLE + " to a Redis URI such as redis://127.0.0.1:6379", e);
        }
        RedisLauncher launcher = new RedisLauncher(process, port);
        launcher.awaitPong();
        return launcher;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    private void awaitPong() {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with code " + process.exitValue()
                        + " while starting on port " + port);
            }
            if (answersPing()) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        throw new IllegalStateException("redis-server did not answer PING on port " + port + " within " + STARTUP);
    }

    private boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            socket.setSoTimeout(500);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = in.readNBytes(5);
            return "+PONG".equals(new String(reply, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("cannot find a free local port for redis-server", e);
        }
    }

    /** Stops the server and waits for it to exit. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook stops the server.
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
