/**
 * {@link io.tollgate.micrometer.MicrometerListener}: every {@link io.tollgate.TollgateListener} event as a Micrometer
 * meter, for any store, with or without Redis.
 */
package io.tollgate.micrometer;
