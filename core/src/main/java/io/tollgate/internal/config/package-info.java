/**
 * The configuration format, JSON and YAML, mapped by Jackson's data binding; nothing here is API and it may change in
 * any release. Use {@link io.tollgate.ConfigLoader}.
 */
package io.tollgate.internal.config;
