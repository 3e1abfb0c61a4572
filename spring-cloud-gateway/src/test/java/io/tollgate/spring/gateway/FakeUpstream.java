package io.tollgate.spring.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small OpenAI-style upstream on a free port of 127.0.0.1, over real HTTP: {@code POST /v1/chat/completions}
 * answers JSON with {@code usage}, or, when the body asks for {@code "stream": true}, server-sent events whose last
 * chunk carries the usage, then {@code [DONE]}. The usage is {@code x-fake-prompt-tokens} and
 * {@code x-fake-completion-tokens} of the request (12 and 30 by default). It counts the requests it served.
 *
 * <p>Thread-safe.
 */
final class FakeUpstream implements AutoCloseable {

    private final HttpServer server;
    private final AtomicInteger served = new AtomicInteger();

    FakeUpstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::answer);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    String uri() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    int served() {
        return served.get();
    }

    private void answer(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            long prompt = number(exchange, "x-fake-prompt-tokens", 12);
            long completion = number(exchange, "x-fake-completion-tokens", 30);
            String usage = "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion
                    + ",\"total_tokens\":" + (prompt + completion) + "}";
            served.incrementAndGet();
            if (body.replace(" ", "").contains("\"stream\":true")) {
                exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                for (String word : new String[] {"Hel", "lo", "!"}) {
                    event(out, "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                            + "{\"content\":\"" + word + "\"}}]}");
                }
                event(out, "{\"object\":\"chat.completion.chunk\",\"choices\":[]," + usage + "}");
                event(out, "[DONE]");
            } else {
                byte[] json = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                        + "\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"}}]," + usage + "}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, json.length);
                exchange.getResponseBody().write(json);
            }
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static long number(HttpExchange exchange, String header, long otherwise) {
        String value = exchange.getRequestHeaders().getFirst(header);
        return value == null ? otherwise : Long.parseLong(value);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
