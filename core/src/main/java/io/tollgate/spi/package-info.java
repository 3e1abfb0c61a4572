/**
 * For store authors: the {@link io.tollgate.spi.GovernanceStore} contract, the smallest set of atomic counter
 * operations that the core needs. Every store proves it with the contract suite {@code GovernanceStoreContract}.
 */
package io.tollgate.spi;
