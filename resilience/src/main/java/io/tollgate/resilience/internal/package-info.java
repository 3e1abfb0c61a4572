/**
 * Implementation details of the resilient store: the usage buffer, the log of acknowledged usage kept until a flush
 * persists it, and the local shares of the {@code LOCAL} policy. Not an API: anything here may change in any release.
 */
package io.tollgate.resilience.internal;
