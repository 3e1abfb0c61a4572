/**
 * JMH benchmarks of the hot path ({@link io.tollgate.benchmarks.HotPathBenchmark}) against the floors of each store
 * ({@link io.tollgate.benchmarks.FloorBenchmark}), the facade that opens a store of either kind
 * ({@link io.tollgate.benchmarks.StoreFixture}), and the generator of the results page
 * ({@link io.tollgate.benchmarks.ResultsPage}). Run from the shaded {@code benchmarks/target/benchmarks.jar}, whose
 * main is JMH's.
 */
package io.tollgate.benchmarks;
