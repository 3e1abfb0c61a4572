package io.tollgate.it;

import io.lettuce.core.RedisClient;
import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.redis.RedisGovernanceStore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One replica process of {@link ColdStartTest}: from a cold JVM, builds a Redis store and checks at once from
 * several threads, then prints what it saw on one line.
 *
 * <p>Arguments: Redis URI, threads, checks per thread.
 */
public final class ColdStartReplica {

    static final String RESULT = "cold start result: ";

    private ColdStartReplica() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        int threads = Integer.parseInt(args[1]);
        int checks = Integer.parseInt(args[2]);
        RedisClient client = RedisClient.create(uri);
        AtomicLong admitted = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<String> failures = new ArrayList<>();
        long started = System.nanoTime();
        try (RedisGovernanceStore store = RedisGovernanceStore.builder(client).build()) {
            long built = System.nanoTime();
            BudgetResolver resolver = BudgetResolver.create(store, Fixtures.config());
            CheckRequest request = CheckRequest.builder().virtualKey(Fixtures.SECRET).provider(Fixtures.PROVIDER)
                    .model(Fixtures.MODEL).build();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread worker = new Thread(() -> {
                    for (int i = 0; i < checks; i++) {
                        try {
                            Decision decision = resolver.check(request);
                            if (decision.allowed()) {
                                admitted.incrementAndGet();
                            }
                        } catch (RuntimeException e) {
                            failed.incrementAndGet();
                            synchronized (failures) {
                                if (failures.size() < 3) {
                                    failures.add(e.toString());
                                }
                            }
                        }
                    }
                });
                workers.add(worker);
                worker.start();
            }
            for (Thread worker : workers) {
                worker.join();
            }
            System.out.println(RESULT + "admitted=" + admitted + " failed=" + failed + " build_ms="
                    + (built - started) / 1_000_000 + " first_failures=" + failures);
        } finally {
            client.shutdown();
        }
    }
}
