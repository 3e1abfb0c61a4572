package io.tollgate.redis.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One Lua script of the store, read once from the class path behind the shared prelude (and the parts it shares with
 * another script), with its SHA-1 digest
 * computed locally so that the first call can already be an {@code EVALSHA}. Each script has one class that builds
 * its arguments and reads its reply ({@link ReserveCall}, {@link ChargeCall}, ...).
 *
 * <p>Immutable and thread-safe.
 */
public enum LuaScript {
    RESERVE("reserve.lua"),
    CHARGE("charge.lua", "charging.lua"),
    CHARGES("charges.lua", "charging.lua"),
    READ("read.lua"),
    FLUSH("flush.lua"),
    RESTORE("restore.lua"),
    RELEASE("release.lua"),
    EXTEND("extend.lua");

    private static final String FOLDER = "/io/tollgate/redis/";

    private final String fileName;
    private final String source;
    private final String sha;

    /** {@code fileName} behind the prelude and the {@code parts} it calls, in that order. */
    LuaScript(String fileName, String... parts) {
        this.fileName = fileName;
        StringBuilder text = new StringBuilder(read("prelude.lua")).append('\n');
        for (String part : parts) {
            text.append(read(part)).append('\n');
        }
        this.source = text.append(read(fileName)).toString();
        this.sha = sha1Hex(source);
    }

    /** The shared prelude alone, for tests of its functions. */
    public static String prelude() {
        return read("prelude.lua");
    }

    public String fileName() {
        return fileName;
    }

    /** The text sent by {@code SCRIPT LOAD} or {@code EVAL}. */
    public String source() {
        return source;
    }

    /** The digest sent by {@code EVALSHA}. */
    public String sha() {
        return sha;
    }

    private static String read(String name) {
        try (InputStream in = LuaScript.class.getResourceAsStream(FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("script " + FOLDER + name + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read script " + FOLDER + name, e);
        }
    }

    private static String sha1Hex(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(40);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JVM", e);
        }
    }
}
