package io.tollgate.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What one replica process counted, in a file both it and the coordinator map: totals, its store's leasing stats as
 * it last published them, and per window of the hot limit the checks decided and admitted. Every write goes straight
 * into the shared mapping, which the kernel keeps when the process is killed, so the coordinator reads a SIGKILLed
 * replica's counts up to its last admitted check.
 *
 * <p>Windows are numbered as the limit's rolling windows are (start / length, anchored at the epoch); slot 0 is the
 * coordinator's {@code firstWindow}, and a window outside the slots is counted in {@link #OUTSIDE} only.
 *
 * <p>Thread-safe: every slot is a long read and written with volatile or atomic access, so the replica's workers
 * add to it at once and the coordinator reads it from its own mapping meanwhile.
 */
final class WindowCounts {

    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class,
            ByteOrder.nativeOrder());
    private static final long MAGIC = 0x746f6c6c67617465L;

    // Header slots.
    private static final int MAGIC_SLOT = 0;
    static final int STATE = 1;
    static final int DECISIONS = 2;
    static final int ADMITTED = 3;
    static final int ERRORS = 4;
    /** Admitted checks whose window had no slot. */
    static final int OUTSIDE = 5;
    /** The replica's {@code slicesHeld} as last published, and when (the replica's epoch milliseconds). */
    static final int SLICES_HELD = 6;
    static final int PUBLISHED_AT = 7;
    static final int LOCAL_ADMISSIONS = 8;
    static final int SHARED_DECISIONS = 9;
    static final int SLICE_REFILLS = 10;
    static final int SLICE_RETURNS = 11;
    static final int CACHED_DENIALS = 12;
    private static final int FIRST_WINDOW = 13;
    private static final int WINDOW_MILLIS = 14;
    private static final int WINDOW_SLOTS = 15;
    /** Where the store's stats at the start of the run are kept, from {@link #LOCAL_ADMISSIONS} on. */
    private static final int AT_START = 16;
    private static final int HEADER_SLOTS = 24;
    /** Per window: decided, then admitted. */
    private static final int PER_WINDOW = 2;

    /** Values of {@link #STATE}. */
    static final long STARTING = 0;
    static final long READY = 1;
    static final long DONE = 2;

    private final MappedByteBuffer buffer;
    private final long firstWindow;
    private final long windowMillis;
    private final int windowSlots;

    private WindowCounts(MappedByteBuffer buffer) {
        this.buffer = buffer;
        if (get(MAGIC_SLOT) != MAGIC) {
            throw new IllegalStateException("not a fleet replica's counts file");
        }
        this.firstWindow = get(FIRST_WINDOW);
        this.windowMillis = get(WINDOW_MILLIS);
        this.windowSlots = (int) get(WINDOW_SLOTS);
    }

    /** A new file at {@code file} for windows of {@code windowMillis} from window number {@code firstWindow} on. */
    static WindowCounts create(Path file, long firstWindow, long windowMillis, int windowSlots) {
        MappedByteBuffer buffer = map(file, (long) (HEADER_SLOTS + PER_WINDOW * windowSlots) * Long.BYTES, true);
        LONGS.setVolatile(buffer, FIRST_WINDOW * Long.BYTES, firstWindow);
        LONGS.setVolatile(buffer, WINDOW_MILLIS * Long.BYTES, windowMillis);
        LONGS.setVolatile(buffer, WINDOW_SLOTS * Long.BYTES, (long) windowSlots);
        LONGS.setVolatile(buffer, MAGIC_SLOT * Long.BYTES, MAGIC);
        return new WindowCounts(buffer);
    }

    /** The file {@link #create} made, mapped by another process. */
    static WindowCounts open(Path file) {
        return new WindowCounts(map(file, 0, false));
    }

    private static MappedByteBuffer map(Path file, long size, boolean create) {
        try (FileChannel channel = create
                ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // a mapping stays valid after its channel is closed
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, create ? size : channel.size());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + file, e);
        }
    }

    long get(int slot) {
        return (long) LONGS.getVolatile(buffer, slot * Long.BYTES);
    }

    void set(int slot, long value) {
        LONGS.setVolatile(buffer, slot * Long.BYTES, value);
    }

    void add(int slot, long delta) {
        LONGS.getAndAdd(buffer, slot * Long.BYTES, delta);
    }

    /** Keeps the store's stats as published now, so that {@link #sinceStart} leaves out the warm-up's. */
    void markStart() {
        for (int slot = LOCAL_ADMISSIONS; slot <= CACHED_DENIALS; slot++) {
            set(AT_START + slot - LOCAL_ADMISSIONS, get(slot));
        }
    }

    /** A store stat ({@link #LOCAL_ADMISSIONS} to {@link #CACHED_DENIALS}) as last published, less it at the start. */
    long sinceStart(int slot) {
        if (slot < LOCAL_ADMISSIONS || slot > CACHED_DENIALS) {
            throw new IllegalArgumentException("slot " + slot + " is no store stat");
        }
        return get(slot) - get(AT_START + slot - LOCAL_ADMISSIONS);
    }

    /** One decided check of the window starting at {@code windowStart}, admitted or not. */
    void decided(long windowStart, boolean admitted) {
        add(DECISIONS, 1);
        if (admitted) {
            add(ADMITTED, 1);
        }
        int index = index(windowStart);
        if (index < 0) {
            if (admitted) {
                add(OUTSIDE, 1);
            }
            return;
        }
        int slot = HEADER_SLOTS + PER_WINDOW * index;
        add(slot, 1);
        if (admitted) {
            add(slot + 1, 1);
        }
    }

    /** The slot of a window, or -1 outside the slots. */
    private int index(long windowStart) {
        long index = Math.floorDiv(windowStart, windowMillis) - firstWindow;
        return index >= 0 && index < windowSlots ? (int) index : -1;
    }

    /** Checks admitted in the window starting at {@code windowStart}; 0 outside the slots. */
    long admittedIn(long windowStart) {
        int index = index(windowStart);
        return index < 0 ? 0 : get(HEADER_SLOTS + PER_WINDOW * index + 1);
    }

    /** Checks decided in the window starting at {@code windowStart}; 0 outside the slots. */
    long decidedIn(long windowStart) {
        int index = index(windowStart);
        return index < 0 ? 0 : get(HEADER_SLOTS + PER_WINDOW * index);
    }

    long firstWindow() {
        return firstWindow;
    }

    long windowMillis() {
        return windowMillis;
    }

    int windowSlots() {
        return windowSlots;
    }
}
