package io.tollgate.internal;

/** Calls a listener without letting it break the caller: a listener must neither block nor throw. */
public final class Listeners {

    private Listeners() {
    }

    public static void safely(Runnable event) {
        try {
            event.run();
        } catch (RuntimeException e) {
            // metrics must never change what the store does
        }
    }
}
