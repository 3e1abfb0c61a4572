/**
 * Fault tests of the whole stack: real Redis servers that the tests kill, pause and restart, a real MariaDB behind a
 * proxy that the tests cut, every failure policy. Each test prints one summary line.
 */
package io.tollgate.it;
