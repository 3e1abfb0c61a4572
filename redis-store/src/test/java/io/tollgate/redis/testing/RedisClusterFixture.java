package io.tollgate.redis.testing;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static io.tollgate.redis.testing.ServerProcesses.deleteQuietly;
import static io.tollgate.redis.testing.ServerProcesses.findOnPath;
import static io.tollgate.redis.testing.ServerProcesses.lastLines;
import static io.tollgate.redis.testing.ServerProcesses.signal;
import static io.tollgate.redis.testing.ServerProcesses.sleep;
import static io.tollgate.redis.testing.ServerProcesses.spawn;
import static io.tollgate.redis.testing.ServerProcesses.stop;
import static io.tollgate.redis.testing.ServerProcesses.waitFor;

/**
 * A Redis Cluster for tests, from the first of these that works:
 * <ol>
 *   <li>{@code redis-server} and {@code redis-cli} on the {@code PATH}: three masters started here on free ports of
 *       127.0.0.1 ({@code --cluster-enabled yes --save "" --appendonly no --cluster-node-timeout 2000}, each in a
 *       temporary folder), joined by {@code redis-cli --cluster create}; this cluster can {@linkplain #addReplica grow
 *       a replica}, {@linkplain #pause(Node) freeze} or {@linkplain #kill(Node) lose a node} and
 *       {@linkplain #awaitFailover fail over};</li>
 *   <li>the cluster at the seed URI in the environment variable {@code TOLLGATE_REDIS_CLUSTER_URI} (used as it is:
 *       no process control).</li>
 * </ol>
 * If neither works, {@link #start()} fails with a message that says how to provide one. Nodes are stopped by
 * {@link #close()}, and by a shutdown hook for any left running.
 *
 * <p>Thread-safe: process control is synchronized.
 */
public final class RedisClusterFixture implements AutoCloseable {

    /** Where the cluster comes from. */
    public enum Kind {
        LOCAL_PROCESSES,
        EXTERNAL
    }

    public static final String URI_VARIABLE = "TOLLGATE_REDIS_CLUSTER_URI";
    /** How long a node may be unreachable before the cluster fails it over; small, so failover tests stay short. */
    public static final Duration NODE_TIMEOUT = Duration.ofMillis(2_000);
    private static final Duration STARTUP = Duration.ofSeconds(30);
    private static final Duration FAILOVER = Duration.ofSeconds(30);
    private static final int MASTERS = 3;
    private static final Set<RedisClusterFixture> RUNNING = ConcurrentHashMap.newKeySet();
    private static RedisClusterFixture shared;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(RedisClusterFixture::close),
                "redis-cluster-fixture-shutdown"));
    }

    private final Kind kind;
    private final Path directory;
    private final Path serverBinary;
    private final Path cliBinary;
    private final List<Node> nodes = new ArrayList<>();
    /** Master id of each replica added, by replica id. */
    private final Map<String, String> replicaOf = new HashMap<>();

    private RedisClusterFixture(Kind kind, Path directory, Path serverBinary, Path cliBinary) {
        this.kind = kind;
        this.directory = directory;
        this.serverBinary = serverBinary;
        this.cliBinary = cliBinary;
    }

    /**
     * One cluster for the whole test run, stopped when the JVM exits. Tests that share it keep to their own key
     * prefix, never flush it and never stop its nodes.
     */
    public static synchronized RedisClusterFixture shared() {
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    /**
     * A new cluster of three masters of its own.
     *
     * @throws IllegalStateException if no cluster can be had, saying how to provide one
     */
    public static RedisClusterFixture start() {
        Path server = findOnPath("redis-server");
        Path cli = findOnPath("redis-cli");
        if (server != null && cli != null) {
            return startProcesses(server, cli);
        }
        String uri = System.getenv(URI_VARIABLE);
        if (uri != null && !uri.isBlank()) {
            RedisURI seed = RedisURI.create(uri);
            RedisClusterFixture fixture = new RedisClusterFixture(Kind.EXTERNAL, null, null, null);
            fixture.nodes.addAll(fixture.readNodes(seed.getHost(), seed.getPort()));
            return fixture;
        }
        throw new IllegalStateException("no Redis Cluster for the tests: put redis-server and redis-cli on the PATH "
                + "(e.g. apt-get install redis-server redis-tools; " + (server == null ? "redis-server" : "redis-cli")
                + " is missing), or set " + URI_VARIABLE + "=redis://host:port to a node of a Redis Cluster the tests "
                + "may write to");
    }

    public Kind kind() {
        return kind;
    }

    /** Whether {@link #addReplica}, {@link #pause}, {@link #kill} and {@link #awaitFailover} work. */
    public boolean controlsProcesses() {
        return kind == Kind.LOCAL_PROCESSES;
    }

    /** Every node started or found, killed ones included. */
    public synchronized List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The masters as the cluster sees them now (asked of a live node). */
    public synchronized List<Node> masters() {
        List<Node> masters = new ArrayList<>();
        for (Node seen : readNodes(liveNode().host, liveNode().port)) {
            if (seen.master) {
                masters.add(seen);
            }
        }
        return masters;
    }

    /** Seed URIs of every live node. */
    public synchronized List<RedisURI> seeds() {
        List<RedisURI> seeds = new ArrayList<>();
        for (Node node : nodes) {
            if (node.isAlive()) {
                seeds.add(RedisURI.create(node.host, node.port));
            }
        }
        return seeds;
    }

    /**
     * A new cluster client with the topology refresh the store recommends, but quicker (so that tests of failover
     * stay short); the caller shuts it down, for example with {@link #shutdown(RedisClusterClient)}.
     */
    public RedisClusterClient newClient() {
        List<RedisURI> seeds = new ArrayList<>();
        for (RedisURI seed : seeds()) {
            // also bounds the topology refresh's own commands: a frozen node must not hold up the next refresh
            seeds.add(RedisURI.builder(seed).withTimeout(Duration.ofSeconds(2)).build());
        }
        RedisClusterClient client = RedisClusterClient.create(seeds);
        client.setOptions(ClusterClientOptions.builder()
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build())
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enablePeriodicRefresh(Duration.ofSeconds(1))
                        .enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
                        .refreshTriggersReconnectAttempts(2)
                        .build())
                .build());
        return client;
    }

    /** Shuts a client down without the default two-second quiet period. */
    public static void shutdown(RedisClusterClient client) {
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Sends one command to one node and returns its reply: text, a number, or a list of them. */
    public Object command(Node node, String... args) {
        return Resp.call(node.host, node.port, args);
    }

    /** Starts a new node and makes it a replica of {@code master}; returns once it has copied the master's data. */
    public synchronized Node addReplica(Node master) {
        requireProcesses("add a replica");
        Node replica = launchNode();
        runCli("--cluster", "add-node", replica.host + ":" + replica.port, master.host + ":" + master.port,
                "--cluster-slave", "--cluster-master-id", master.id);
        replica.id = String.valueOf(command(replica, "CLUSTER", "MYID"));
        replicaOf.put(replica.id, master.id);
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            String info = String.valueOf(command(replica, "INFO", "replication"));
            if (info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0")
                    && info.contains("master_port:" + master.port)) {
                awaitClusterOk();
                return replica;
            }
            sleep(50, "the cluster");
        }
        throw new IllegalStateException("replica " + replica + " of " + master + " did not sync within " + STARTUP
                + ": " + tail(replica));
    }

    /** Kills a node with SIGKILL: what it had not replicated is gone. */
    public synchronized void kill(Node node) {
        requireProcesses("kill a node");
        node.process.destroyForcibly();
        waitFor(node.process);
    }

    /** Freezes a node with SIGSTOP: it neither answers nor reads what its master sends; {@link #resume} thaws it. */
    public synchronized void pause(Node node) {
        requireProcesses("pause a node");
        signal(node.process, "STOP");
    }

    /** Thaws a {@linkplain #pause paused} node with SIGCONT. */
    public synchronized void resume(Node node) {
        requireProcesses("resume a node");
        signal(node.process, "CONT");
    }

    /**
     * Waits until a replica of the killed {@code master} has been promoted and every live node reports
     * {@code cluster_state:ok}; returns the promoted node.
     */
    public synchronized Node awaitFailover(Node master) {
        requireProcesses("wait for a failover");
        long deadline = System.nanoTime() + FAILOVER.toNanos();
        while (System.nanoTime() < deadline) {
            for (Node seen : readNodes(liveNode().host, liveNode().port)) {
                if (seen.master && seen.slots > 0 && master.id.equals(replicaOf.get(seen.id))) {
                    awaitClusterOk();
                    return find(seen.id);
                }
            }
            sleep(100, "the cluster");
        }
        throw new IllegalStateException("no replica of " + master + " was promoted within " + FAILOVER);
    }

    /** Stops every node this fixture started and removes their folders. */
    @Override
    public synchronized void close() {
        RUNNING.remove(this);
        for (Node node : nodes) {
            if (node.process != null && node.process.isAlive()) {
                try {
                    // a stopped process would not act on SIGTERM
                    signal(node.process, "CONT");
                } catch (RuntimeException e) {
                    node.process.destroyForcibly();
                }
                stop(node.process);
            }
        }
        deleteQuietly(directory);
    }

    @Override
    public String toString() {
        return "Redis Cluster " + kind + " " + nodes;
    }

    /** One node: address, cluster id, and (for nodes started here) its process. */
    public static final class Node {
        private final String host;
        private final int port;
        private final Process process;
        private final Path directory;
        private final boolean master;
        private final int slots;
        private final String masterId;
        private volatile String id;

        Node(String host, int port, Process process, Path directory, String id, boolean master, int slots,
             String masterId) {
            this.host = host;
            this.port = port;
            this.process = process;
            this.directory = directory;
            this.id = id;
            this.master = master;
            this.slots = slots;
            this.masterId = masterId;
        }

        public String host() {
            return host;
        }

        public int port() {
            return port;
        }

        /** The node's cluster id. */
        public String id() {
            return id;
        }

        /** Whether the process still runs (an external node is assumed alive). */
        public boolean isAlive() {
            return process == null || process.isAlive();
        }

        public RedisURI uri() {
            return RedisURI.create(host, port);
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private static RedisClusterFixture startProcesses(Path server, Path cli) {
        Path directory;
        try {
            directory = Files.createTempDirectory("tollgate-redis-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for the cluster", e);
        }
        RedisClusterFixture fixture = new RedisClusterFixture(Kind.LOCAL_PROCESSES, directory, server, cli);
        RUNNING.add(fixture);
        try {
            List<String> create = new ArrayList<>(List.of("--cluster", "create"));
            for (int i = 0; i < MASTERS; i++) {
                Node node = fixture.launchNode();
                create.add(node.host + ":" + node.port);
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            fixture.runCli(create.toArray(new String[0]));
            for (Node node : fixture.nodes) {
                node.id = String.valueOf(fixture.command(node, "CLUSTER", "MYID"));
            }
            fixture.awaitClusterOk();
            return fixture;
        } catch (RuntimeException e) {
            fixture.close();
            throw e;
        }
    }

    /** Starts one empty cluster-enabled node on a free port (a few tries, in case another process takes the port). */
    private Node launchNode() {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freePort();
            Path folder = directory.resolve("node-" + port);
            try {
                Files.createDirectories(folder);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + folder, e);
            }
            List<String> command = List.of(serverBinary.toString(),
                    "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", folder.resolve("nodes-" + port + ".conf")
                            .toString(),
                    "--cluster-node-timeout", Long.toString(NODE_TIMEOUT.toMillis()),
                    "--save", "", "--appendonly", "no", "--dir", folder.toString(), "--daemonize", "no");
            Process process = spawn(command, folder.resolve("redis.log"));
            Node node = new Node("127.0.0.1", port, process, folder, null, true, 0, null);
            nodes.add(node);
            try {
                awaitPing(node);
                return node;
            } catch (IllegalStateException e) {
                last = e;
                process.destroyForcibly();
                waitFor(process);
                nodes.remove(node);
            }
        }
        throw last;
    }

    private void runCli(String... args) {
        List<String> command = new ArrayList<>();
        command.add(cliBinary.toString());
        command.addAll(List.of(args));
        Path log = directory.resolve("redis-cli.log");
        try {
            Process cli = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            cli.getOutputStream().close();
            if (!cli.waitFor(STARTUP.toSeconds(), TimeUnit.SECONDS)) {
                cli.destroyForcibly();
                throw new IllegalStateException(command + " did not finish within " + STARTUP);
            }
            if (cli.exitValue() != 0) {
                throw new IllegalStateException(command + " exited with " + cli.exitValue() + ": " + lastLines(log, 8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    private void awaitClusterOk() {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        String problem = "no answer";
        while (System.nanoTime() < deadline) {
            boolean ok = true;
            for (Node node : nodes) {
                if (!node.isAlive()) {
                    continue;
                }
                try {
                    String info = String.valueOf(command(node, "CLUSTER", "INFO"));
                    if (!info.contains("cluster_state:ok")) {
                        ok = false;
                        problem = node + " is not ok yet";
                    }
                } catch (RuntimeException e) {
                    ok = false;
                    problem = node + ": " + e.getMessage();
                }
            }
            if (ok) {
                return;
            }
            sleep(50, "the cluster");
        }
        throw new IllegalStateException("the cluster did not reach cluster_state:ok within " + STARTUP + " ("
                + problem + ")");
    }

    /** The nodes as {@code CLUSTER NODES} on {@code host:port} lists them, matched to the processes started here. */
    private List<Node> readNodes(String host, int port) {
        String text = String.valueOf(Resp.call(host, port, "CLUSTER", "NODES"));
        List<Node> seen = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] fields = line.trim().split(" ");
            if (fields.length < 8) {
                continue;
            }
            String address = fields[1].split("@")[0];
            int colon = address.lastIndexOf(':');
            String nodeHost = address.substring(0, colon);
            if (nodeHost.isEmpty()) {
                nodeHost = host;
            }
            int nodePort = Integer.parseInt(address.substring(colon + 1));
            String flags = fields[2];
            boolean master = flags.contains("master") && !flags.contains("fail");
            int slots = 0;
            for (int i = 8; i < fields.length; i++) {
                String range = fields[i];
                if (range.startsWith("[")) {
                    continue;
                }
                int dash = range.indexOf('-');
                slots += dash < 0 ? 1 : Integer.parseInt(range.substring(dash + 1))
                        - Integer.parseInt(range.substring(0, dash)) + 1;
            }
            Node mine = null;
            for (Node node : nodes) {
                if (node.port == nodePort) {
                    mine = node;
                }
            }
            seen.add(new Node(nodeHost, nodePort, mine == null ? null : mine.process,
                    mine == null ? null : mine.directory, fields[0], master, slots,
                    "-".equals(fields[3]) ? null : fields[3]));
        }
        return seen;
    }

    private Node find(String id) {
        for (Node node : nodes) {
            if (id.equals(node.id)) {
                return node;
            }
        }
        throw new IllegalStateException("no node " + id + " among " + nodes);
    }

    private Node liveNode() {
        for (Node node : nodes) {
            if (node.isAlive()) {
                return node;
            }
        }
        throw new IllegalStateException("no live node in " + this);
    }

    private void awaitPing(Node node) {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        String problem = "no answer";
        while (System.nanoTime() < deadline) {
            if (!node.isAlive()) {
                throw new IllegalStateException("redis-server on port " + node.port + " exited with "
                        + node.process.exitValue() + ": " + tail(node));
            }
            try {
                if ("PONG".equals(command(node, "PING"))) {
                    return;
                }
            } catch (RuntimeException e) {
                problem = e.getMessage();
            }
            sleep(20, "the cluster");
        }
        throw new IllegalStateException("Redis at " + node + " did not answer PING within " + STARTUP + " ("
                + problem + "): " + tail(node));
    }

    private void requireProcesses(String action) {
        if (kind != Kind.LOCAL_PROCESSES) {
            throw new UnsupportedOperationException("cannot " + action + " of a " + kind + " cluster: it needs "
                    + "redis-server and redis-cli on the PATH");
        }
    }

    private static int freePort() {
        // a cluster node also listens on port + 10000 (the cluster bus): both must be free
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                int port = socket.getLocalPort();
                if (port + 10_000 > 65_535) {
                    continue;
                }
                if (canBind(port + 10_000)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free port", e);
            }
        }
        throw new IllegalStateException("no free port with a free cluster bus port");
    }

    private static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort() == port;
        } catch (IOException taken) {
            return false;
        }
    }

    private static String tail(Node node) {
        return node.directory == null ? "" : lastLines(node.directory.resolve("redis.log"), 8);
    }

    /** A minimal RESP client for administration: one connection per command, replies as text, numbers and lists. */
    private static final class Resp {
        static Object call(String host, int port, String... args) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1_000);
                socket.setSoTimeout(5_000);
                StringBuilder request = new StringBuilder().append('*').append(args.length).append("\r\n");
                for (String arg : args) {
                    byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
                    request.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
                }
                OutputStream out = socket.getOutputStream();
                out.write(request.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                return read(new BufferedInputStream(socket.getInputStream()));
            } catch (IOException e) {
                throw new UncheckedIOException(String.join(" ", args) + " to " + host + ":" + port + " failed", e);
            }
        }

        private static Object read(InputStream in) throws IOException {
            int type = in.read();
            String line = line(in);
            switch (type) {
                case '+':
                    return line;
                case '-':
                    throw new IllegalStateException(line);
                case ':':
                    return Long.parseLong(line);
                case '$': {
                    int length = Integer.parseInt(line);
                    if (length < 0) {
                        return null;
                    }
                    byte[] bytes = in.readNBytes(length + 2);
                    return new String(bytes, 0, length, StandardCharsets.UTF_8);
                }
                case '*': {
                    int count = Integer.parseInt(line);
                    List<Object> items = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        items.add(read(in));
                    }
                    return items;
                }
                default:
                    throw new IOException("unexpected reply type " + (char) type + " " + line);
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\r'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                line.append((char) c);
            }
            in.read();
            return line.toString();
        }
    }
}
