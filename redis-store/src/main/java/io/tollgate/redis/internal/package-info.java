/**
 * Implementation details of the Redis store: key layout and hash tags, placements, script arguments, script calls and
 * the restore after data loss. Not an API: anything here may change in any release.
 */
package io.tollgate.redis.internal;
