/**
 * The fleet load tool: many simulated gateway replicas, each with its own store client, resolver and tracker, drive a
 * mixed workload against one shared store and report, per limit, what was admitted against what was allowed. Run
 * {@code java -jar benchmarks/target/tollgate-fleet.jar --help}; the entry point is {@link io.tollgate.fleet.FleetMain}.
 */
package io.tollgate.fleet;
