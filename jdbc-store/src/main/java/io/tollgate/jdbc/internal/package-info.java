/**
 * Implementation details of the JDBC store: Jdbi SqlObject DAOs (their SQL lives in {@code .sql} resource files beside
 * the class path of each DAO), row records, and the conversion between rows and the governance model. Nothing here is
 * API and it may change in any release.
 */
package io.tollgate.jdbc.internal;
