package io.tollgate;

import io.tollgate.memory.InMemoryGovernanceStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigFileTest {

    private static final Duration FAST_POLL = Duration.ofMillis(20);
    /** Long enough that no poll comes in the way of a test that calls refresh() itself. */
    private static final Duration NO_POLL = Duration.ofHours(1);
    private static final String ONE_USER = "{\"users\": [{\"id\": \"u1\"}]}";
    private static final String TWO_USERS = "{\"users\": [{\"id\": \"u1\"}, {\"id\": \"u2\"}]}";
    private static final String INVALID = "{\"users\": [{\"id\": \"u1\", \"budgets\": [{\"max\": \"ten\"}]}]}";
    private static final String SECRET = "sk-do-not-show-77e1";

    @TempDir
    Path dir;

    private final List<ConfigFile> opened = new ArrayList<>();
    private final Recorder recorder = new Recorder();

    @AfterEach
    void closeEveryFile() {
        opened.forEach(ConfigFile::close);
    }

    private ConfigFile watch(Path file, Duration interval) {
        ConfigFile config = ConfigFile.builder(file).pollInterval(interval).listener(recorder).start();
        opened.add(config);
        return config;
    }

    private Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    /** Writes the new content beside the file and renames it over the old one, as a careful deployment does. */
    private static void replace(Path file, String content) throws IOException {
        Path next = Files.writeString(file.resolveSibling(file.getFileName() + ".next"), content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits, looking every few milliseconds, until the condition holds; fails after ten seconds. */
    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    private static boolean pollingThreadAlive(String fileName) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("tollgate-config-file " + fileName) && t.isAlive());
    }

    @Test
    void startsWithTheFileAsLoaded() throws Exception {
        Path file = file("config.json", ONE_USER);

        ConfigFile config = watch(file, FAST_POLL);

        assertThat(config.get()).isEqualTo(ConfigLoader.load(file));
        assertThat(config.file()).isEqualTo(file);
        assertThat(recorder.events).isEmpty();
    }

    @Test
    void aMissingOrInvalidFileAtStartIsAnErrorAndLeavesNoThread() throws Exception {
        assertThatThrownBy(() -> watch(dir.resolve("missing.json"), FAST_POLL))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("cannot read ");
        Path invalid = file("invalid.json", INVALID);
        assertThatThrownBy(() -> watch(invalid, FAST_POLL))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("users[0].budgets[0].max: ");

        assertThat(pollingThreadAlive("missing.json")).isFalse();
        assertThat(pollingThreadAlive("invalid.json")).isFalse();
    }

    @Test
    void aChangedFileIsInForceWithinAFewPollIntervals() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, FAST_POLL);

        replace(file, TWO_USERS);
        await("the second user", () -> config.get().user("u2").isPresent());
        // the listener hears of it just after the new configuration is in force
        await("the reload to be heard", () -> !recorder.events.isEmpty());

        assertThat(config.get()).isEqualTo(ConfigLoader.parse(TWO_USERS));
        assertThat(recorder.events).containsExactly("reloaded " + file);
        assertThat(recorder.configs).containsExactly(config.get());
    }

    @Test
    void aFileRewrittenInPlaceIsSeen() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, FAST_POLL);

        // a poll may catch the file half written and reject that version; the finished one follows
        Files.writeString(file, TWO_USERS);

        await("the second user", () -> config.get().user("u2").isPresent());
    }

    @Test
    void yamlFilesAreWatchedToo() throws Exception {
        Path file = file("config.yaml", "users:\n  - id: u1\n");
        ConfigFile config = watch(file, FAST_POLL);

        replace(file, "users:\n  - id: u1\n  - id: u2\n");

        await("the second user", () -> config.get().user("u2").isPresent());
    }

    @Test
    void theSameInstanceIsReturnedWhileTheConfigurationDoesNotChange() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, NO_POLL);
        GovernanceConfig first = config.get();

        assertThat(config.refresh()).isFalse();
        assertThat(config.get()).isSameAs(first);
        // touched, and even rewritten, with the same configuration: still the same instance
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        assertThat(config.refresh()).isFalse();
        replace(file, ONE_USER.replace(" ", "  "));
        assertThat(config.refresh()).isFalse();

        assertThat(config.get()).isSameAs(first);
        assertThat(recorder.events).isEmpty();
        replace(file, TWO_USERS);
        assertThat(config.refresh()).isTrue();
        assertThat(config.get()).isNotSameAs(first);
    }

    @Test
    void anInvalidVersionKeepsTheLastGoodConfigurationAndIsReportedOnce() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, FAST_POLL);
        GovernanceConfig good = config.get();

        replace(file, INVALID);
        await("the rejection", () -> !recorder.events.isEmpty());

        assertThat(config.get()).isSameAs(good);
        assertThat(config.refresh()).isFalse();
        assertThat(config.refresh()).isFalse();
        assertThat(recorder.events).containsExactly("rejected " + file + ": users[0].budgets[0].max: \"ten\" is not "
                + "an amount of money (expected dollars such as 123.45 or $123.45)");

        replace(file, TWO_USERS);
        await("the reload to be heard", () -> recorder.events.size() == 2);
        assertThat(config.get().user("u2")).isPresent();
        assertThat(recorder.events).last().isEqualTo("reloaded " + file);
    }

    @Test
    void eachBadVersionIsReportedOnceAndAgainWhenItChanges() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, NO_POLL);

        replace(file, INVALID);
        config.refresh();
        config.refresh();
        replace(file, "{\"users\": {}}");
        config.refresh();
        config.refresh();

        assertThat(recorder.events).containsExactly(
                "rejected " + file + ": users[0].budgets[0].max: \"ten\" is not an amount of money "
                        + "(expected dollars such as 123.45 or $123.45)",
                "rejected " + file + ": users: expected an array, got an object");
        assertThat(config.get()).isEqualTo(ConfigLoader.parse(ONE_USER));
    }

    @Test
    void aDeletedFileKeepsTheConfigurationAndIsReportedOnce() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, NO_POLL);
        GovernanceConfig good = config.get();

        Files.delete(file);
        assertThat(config.refresh()).isFalse();
        assertThat(config.refresh()).isFalse();

        assertThat(config.get()).isSameAs(good);
        assertThat(recorder.events).singleElement().asString().startsWith("rejected " + file + ": cannot read " + file);
        Files.writeString(file, TWO_USERS);
        assertThat(config.refresh()).isTrue();
    }

    @Test
    void theWarningNamesTheFileAndTheErrorButNoSecret() throws Exception {
        Path file = file("config.json", ONE_USER);
        ConfigFile config = watch(file, NO_POLL);
        replace(file, "{\"virtualKeys\": [{\"id\": \"k\", \"secret\": \"" + SECRET + "\", \"teamId\": \"nobody\"}]}");

        String log = capturingStandardError(config::refresh);

        assertThat(log).contains("WARN").contains(file.toString())
                .contains("virtualKeys[0].teamId: \"nobody\" is not a team")
                .doesNotContain(SECRET).doesNotContain("do-not-show");
        assertThat(capturingStandardError(config::refresh)).doesNotContain("WARN");
    }

    /** What the logger (slf4j-simple, which writes to the System.err of the moment) printed while running. */
    private static String capturingStandardError(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aFailingListenerDoesNotStopTheReloads() throws Exception {
        Path file = file("config.json", ONE_USER);
        List<GovernanceConfig> heard = new CopyOnWriteArrayList<>();
        ConfigFile config = ConfigFile.builder(file).pollInterval(FAST_POLL).listener(new ConfigFile.Listener() {
            @Override
            public void reloaded(Path changed, GovernanceConfig next) {
                heard.add(next);
                throw new IllegalStateException("listener bug");
            }
        }).start();
        opened.add(config);

        replace(file, TWO_USERS);
        await("the first reload to be heard", () -> heard.size() == 1);
        replace(file, ONE_USER);
        await("the second reload to be heard", () -> heard.size() == 2);

        assertThat(config.get().user("u2")).isEmpty();
    }

    @Test
    void closeStopsThePollingThreadAndKeepsTheConfiguration() throws Exception {
        Path file = file("closing.json", ONE_USER);
        ConfigFile config = watch(file, FAST_POLL);
        assertThat(pollingThreadAlive("closing.json")).isTrue();

        config.close();
        config.close();

        await("the polling thread to end", () -> !pollingThreadAlive("closing.json"));
        assertThat(config.get()).isEqualTo(ConfigLoader.parse(ONE_USER));
    }

    @Test
    void aResolverFollowsTheFile() throws Exception {
        String active = "{\"virtualKeys\": [{\"id\": \"k\", \"secret\": \"sk-1\", \"active\": true}]}";
        Path file = file("config.json", active);
        ConfigFile config = watch(file, FAST_POLL);
        BudgetResolver resolver = BudgetResolver.create(InMemoryGovernanceStore.create(), config, Clock.systemUTC());
        CheckRequest request = CheckRequest.builder().virtualKey("sk-1").build();
        assertThat(resolver.check(request).outcome()).isEqualTo(Outcome.ALLOWED);

        replace(file, active.replace("true", "false"));
        await("the key to be inactive", () -> !config.get().virtualKey("k").orElseThrow().active());

        assertThat(resolver.check(request).outcome()).isEqualTo(Outcome.VIRTUAL_KEY_BLOCKED);
    }

    @Test
    void thePollIntervalMustBeAtLeastAMillisecond() {
        assertThatThrownBy(() -> ConfigFile.builder(dir.resolve("x.json")).pollInterval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ConfigFile.pollInterval: PT0S must be at least 1 ms");
    }

    /** Records what the listener heard, from whichever thread. */
    private static final class Recorder implements ConfigFile.Listener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<GovernanceConfig> configs = new CopyOnWriteArrayList<>();

        @Override
        public void reloaded(Path file, GovernanceConfig config) {
            configs.add(config);
            events.add("reloaded " + file);
        }

        @Override
        public void rejected(Path file, ConfigException error) {
            events.add("rejected " + file + ": " + error.getMessage());
        }
    }
}
