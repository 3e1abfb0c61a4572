/** Test support for the JDBC store: a database per test class, a cuttable TCP proxy, log capture, a hand clock. */
package io.tollgate.jdbc.testing;
