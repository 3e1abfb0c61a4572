/** The embedded in-memory store, the default for one process and for tests. */
package io.tollgate.memory;
