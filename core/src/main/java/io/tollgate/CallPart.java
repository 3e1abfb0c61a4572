package io.tollgate;

/**
 * Which part of an upstream call a {@link UsageUpdate} charges: the whole call, or one chunk of a streamed answer.
 * One value says both what the two streaming questions answer (does it carry usage? does it end the request?), so
 * that they cannot be given the wrong way round.
 *
 * <p>Immutable and thread-safe.
 */
public enum CallPart {
    /** A call that does not stream: its tokens and cost are charged and it ends the request. */
    WHOLE_CALL(false, true, true),
    /** A streamed chunk before the last that carries no usage: nothing is charged (its tokens and cost are ignored). */
    CHUNK(true, false, false),
    /** A streamed chunk before the last that carries usage: its tokens and cost are charged. */
    CHUNK_WITH_USAGE(true, true, false),
    /** The last streamed chunk, without usage: it ends the request and charges no tokens or cost. */
    LAST_CHUNK(true, false, true),
    /** The last streamed chunk, carrying usage: its tokens and cost are charged and it ends the request. */
    LAST_CHUNK_WITH_USAGE(true, true, true);

    private final boolean streamed;
    private final boolean chargesUsage;
    private final boolean endsRequest;

    CallPart(boolean streamed, boolean chargesUsage, boolean endsRequest) {
        this.streamed = streamed;
        this.chargesUsage = chargesUsage;
        this.endsRequest = endsRequest;
    }

    /** Whether this is a chunk of a streamed answer. */
    public boolean streamed() {
        return streamed;
    }

    /** Whether tokens and cost are charged. */
    public boolean chargesUsage() {
        return chargesUsage;
    }

    /** Whether the request ends with it: it settles a reservation, or counts the request when none was made. */
    public boolean endsRequest() {
        return endsRequest;
    }
}
