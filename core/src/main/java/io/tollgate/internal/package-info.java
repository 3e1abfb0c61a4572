/** Implementation details; nothing here is API and it may change in any release. */
package io.tollgate.internal;
