package io.tollgate.redis.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static io.tollgate.redis.testing.ServerProcesses.deleteQuietly;
import static io.tollgate.redis.testing.ServerProcesses.findOnPath;
import static io.tollgate.redis.testing.ServerProcesses.lastLines;
import static io.tollgate.redis.testing.ServerProcesses.signal;
import static io.tollgate.redis.testing.ServerProcesses.sleep;
import static io.tollgate.redis.testing.ServerProcesses.spawn;
import static io.tollgate.redis.testing.ServerProcesses.stop;
import static io.tollgate.redis.testing.ServerProcesses.waitFor;

/**
 * A Redis server for tests, from the first of these that works:
 * <ol>
 *   <li>{@code redis-server} on the {@code PATH}: started here on a free port of 127.0.0.1 with
 *       {@code --save "" --appendonly no} in a temporary folder, plus any extra arguments (such as
 *       {@code --requirepass}). This server can be {@linkplain #kill() killed}, {@linkplain #pause() paused},
 *       {@linkplain #resume() resumed} and {@linkplain #restart() restarted} on the same port;</li>
 *   <li>a Testcontainers Redis when Docker is available (extra arguments are passed; {@linkplain #pause() pause}
 *       works, kill and restart do not);</li>
 *   <li>the server at the URI in the environment variable {@code TOLLGATE_REDIS_URI} (used as it is: no extra
 *       arguments, no process control).</li>
 * </ol>
 * If none works, {@link #start} fails with a message that says how to provide one. Servers are stopped by
 * {@link #close()}, and by a shutdown hook for any left running.
 *
 * <p>Thread-safe: process control is synchronized.
 */
public final class RedisFixture implements AutoCloseable {

    /** Where the server comes from. */
    public enum Kind {
        LOCAL_PROCESS,
        CONTAINER,
        EXTERNAL
    }

    public static final String URI_VARIABLE = "TOLLGATE_REDIS_URI";
    private static final Duration STARTUP = Duration.ofSeconds(15);
    private static final Set<RedisFixture> RUNNING = ConcurrentHashMap.newKeySet();
    private static final String CONTAINER_IMAGE = "redis:7.4";
    private static final int REDIS_PORT = 6379;
    private static RedisFixture shared;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(RedisFixture::close),
                "redis-fixture-shutdown"));
    }

    private final Kind kind;
    private final List<String> extraArgs;
    private final String host;
    private final int port;
    private final Path directory;
    private final GenericContainer<?> container;
    private final RedisURI externalUri;
    private Process process;
    private boolean paused;

    private RedisFixture(Kind kind, List<String> extraArgs, String host, int port, Path directory,
                         GenericContainer<?> container, RedisURI externalUri) {
        this.kind = kind;
        this.extraArgs = extraArgs;
        this.host = host;
        this.port = port;
        this.directory = directory;
        this.container = container;
        this.externalUri = externalUri;
    }

    /**
     * One server for the whole test run, with no extra arguments, stopped when the JVM exits. Tests that share it
     * keep to their own key prefix and never flush it.
     */
    public static synchronized RedisFixture shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    /**
     * A new server of its own, with extra {@code redis-server} arguments such as {@code "--requirepass", "secret"}.
     *
     * @throws IllegalStateException if no server can be had, saying how to provide one
     */
    public static RedisFixture start(String... extraArgs) {
        List<String> args = List.of(extraArgs);
        Path binary = findOnPath("redis-server");
        if (binary != null) {
            return startProcess(binary, args);
        }
        if (dockerAvailable()) {
            return startContainer(args);
        }
        String uri = System.getenv(URI_VARIABLE);
        if (uri != null && !uri.isBlank()) {
            if (!args.isEmpty()) {
                throw new IllegalStateException("the Redis at " + URI_VARIABLE + " cannot take the extra arguments "
                        + args + ": install redis-server or Docker to run this test");
            }
            RedisURI parsed = RedisURI.create(uri);
            RedisFixture fixture = new RedisFixture(Kind.EXTERNAL, args, parsed.getHost(), parsed.getPort(), null,
                    null, parsed);
            fixture.awaitPing(null);
            return fixture;
        }
        throw new IllegalStateException("no Redis for the tests: put redis-server on the PATH (e.g. apt-get install "
                + "redis-server), or make Docker available for Testcontainers, or set " + URI_VARIABLE
                + "=redis://host:port to a Redis the tests may write to");
    }

    public Kind kind() {
        return kind;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Whether {@link #kill()}, {@link #restart()}, {@link #pause()} and {@link #resume()} work. */
    public boolean controlsProcess() {
        return kind == Kind.LOCAL_PROCESS;
    }

    /** A URI of the server, without credentials. */
    public RedisURI uri() {
        return uriBuilder().build();
    }

    /** A URI builder set to the server, to add credentials or a timeout. */
    public RedisURI.Builder uriBuilder() {
        if (externalUri != null) {
            RedisURI.Builder builder = RedisURI.builder(externalUri);
            return builder;
        }
        return RedisURI.builder().withHost(host).withPort(port);
    }

    /** A new client of the server; the caller shuts it down, for example with {@link #shutdown(RedisClient)}. */
    public RedisClient newClient() {
        return RedisClient.create(uri());
    }

    /** Shuts a client down without the default two-second quiet period. */
    public static void shutdown(RedisClient client) {
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Kills the server with SIGKILL: it loses every key (nothing is persisted). */
    public synchronized void kill() {
        requireProcess("kill");
        process.destroyForcibly();
        waitFor(process);
        paused = false;
    }

    /** Starts the server again on the same port (after {@link #kill()}, or kills it first). */
    public synchronized void restart() {
        requireProcess("restart");
        if (process.isAlive()) {
            kill();
        }
        process = launch(findOnPath("redis-server"), port, directory, extraArgs);
        awaitPing(process);
    }

    /** Freezes the server with SIGSTOP (connections stay open, nothing answers); {@link #resume()} thaws it. */
    public synchronized void pause() {
        if (kind == Kind.CONTAINER) {
            container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
        } else {
            requireProcess("pause");
            signal(process, "STOP");
        }
        paused = true;
    }

    /** Thaws a {@linkplain #pause() paused} server with SIGCONT. */
    public synchronized void resume() {
        if (kind == Kind.CONTAINER) {
            container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
        } else {
            requireProcess("resume");
            signal(process, "CONT");
        }
        paused = false;
    }

    /** Stops the server (not an external one) and removes its folder. */
    @Override
    public synchronized void close() {
        RUNNING.remove(this);
        switch (kind) {
            case LOCAL_PROCESS -> {
                if (process != null && process.isAlive()) {
                    if (paused) {
                        signal(process, "CONT");
                    }
                    stop(process);
                }
                deleteQuietly(directory);
            }
            case CONTAINER -> {
                if (paused) {
                    resume();
                }
                container.stop();
            }
            case EXTERNAL -> {
                // not ours to stop
            }
        }
    }

    @Override
    public String toString() {
        return "Redis " + kind + " at " + host + ":" + port;
    }

    private static RedisFixture startProcess(Path binary, List<String> args) {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            Path directory;
            try {
                directory = Files.createTempDirectory("tollgate-redis-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a folder for redis-server", e);
            }
            int port = freePort();
            Process process = launch(binary, port, directory, args);
            RedisFixture fixture = new RedisFixture(Kind.LOCAL_PROCESS, args, "127.0.0.1", port, directory, null,
                    null);
            fixture.process = process;
            RUNNING.add(fixture);
            try {
                fixture.awaitPing(process);
                return fixture;
            } catch (IllegalStateException e) {
                // most likely another process took the port between our probe and the start: try another
                last = e;
                fixture.close();
            }
        }
        throw last;
    }

    private static Process launch(Path binary, int port, Path directory, List<String> args) {
        List<String> command = new ArrayList<>(List.of(binary.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", directory.toString(), "--daemonize", "no"));
        command.addAll(args);
        return spawn(command, directory.resolve("redis.log"));
    }

    private static RedisFixture startContainer(List<String> args) {
        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(CONTAINER_IMAGE))
                .withExposedPorts(REDIS_PORT);
        List<String> command = new ArrayList<>(List.of("redis-server", "--save", "", "--appendonly", "no"));
        command.addAll(args);
        container.withCommand(command.toArray(new String[0]));
        container.start();
        RedisFixture fixture = new RedisFixture(Kind.CONTAINER, args, container.getHost(),
                container.getMappedPort(REDIS_PORT), null, container, null);
        RUNNING.add(fixture);
        return fixture;
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Waits until the server answers PING (an authentication error counts as an answer). */
    private void awaitPing(Process started) {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        String lastProblem = "no answer";
        while (System.nanoTime() < deadline) {
            if (started != null && !started.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " exited with "
                        + started.exitValue() + ": " + tail(directory));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1_000);
                socket.setSoTimeout(1_000);
                OutputStream out = socket.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String line = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine();
                if (line != null && (line.startsWith("+PONG") || line.startsWith("-NOAUTH"))) {
                    return;
                }
                lastProblem = String.valueOf(line);
            } catch (IOException e) {
                lastProblem = e.toString();
            }
            sleep(20, "Redis");
        }
        throw new IllegalStateException("Redis at " + host + ":" + port + " did not answer PING within " + STARTUP
                + " (" + lastProblem + ")" + (directory == null ? "" : ": " + tail(directory)));
    }

    private void requireProcess(String action) {
        if (kind != Kind.LOCAL_PROCESS) {
            throw new UnsupportedOperationException("cannot " + action + " a " + kind + " Redis: it needs "
                    + "redis-server on the PATH");
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static String tail(Path directory) {
        if (directory == null) {
            return "";
        }
        return lastLines(directory.resolve("redis.log"), 5);
    }
}
