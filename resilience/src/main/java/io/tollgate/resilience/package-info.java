/**
 * Resilience in front of any {@link io.tollgate.spi.GovernanceStore}: {@link io.tollgate.resilience.ResilientGovernanceStore}
 * bounds every call, stops calling a primary that does not answer (a resilience4j circuit breaker), lets a
 * {@link io.tollgate.resilience.FailurePolicy} answer meanwhile, buffers the usage charged meanwhile and replays it
 * exactly once when the primary answers again, and replays what a primary that lost its data had acknowledged.
 */
package io.tollgate.resilience;
