/**
 * The fleet load tool: many simulated gateway replicas, each with its own store client, resolver and tracker, send a
 * gateway's traffic to one shared store and report what was admitted and why the rest was denied, per limit what was
 * admitted against what was allowed, and on Redis the Redis calls per decision; or replica processes, separate JVMs,
 * that check one hot key, one of them killed mid-window, with what each window admitted summed from files that outlive
 * the kill ({@link io.tollgate.fleet.ProcessFleet}). Run
 * {@code java -jar benchmarks/target/tollgate-fleet.jar --help}; the entry point is {@link io.tollgate.fleet.FleetMain}.
 */
package io.tollgate.fleet;
