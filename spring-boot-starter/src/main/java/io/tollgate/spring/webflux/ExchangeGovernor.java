package io.tollgate.spring.webflux;

import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.StoreException;
import io.tollgate.UsageTracker;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateRequest;
import io.tollgate.spring.TollgateRequestResolver;
import io.tollgate.spring.web.AnswerMeter;
import io.tollgate.spring.web.DenialAnswer;
import io.tollgate.spring.web.RequestGate;
import io.tollgate.spring.web.UsageCharge;
import io.tollgate.usage.PriceTable;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Governs one reactive exchange, for the WebFlux filter and the Spring Cloud Gateway filters alike: reads a JSON body
 * (bounded), asks the {@link TollgateRequestResolver} for the check, checks asynchronously, answers a denial with
 * the decision's status, headers and body, and otherwise passes the exchange on with the decision's rate-limit headers
 * and a response that meters the upstream's usage as it streams through, charged once when the answer ends.
 *
 * <p>Nothing here blocks: the body is joined reactively, the check is the store's asynchronous call, and the charge
 * is sent without waiting. Thread-safe.
 */
public final class ExchangeGovernor {

    /** The exchange attribute that marks an exchange checked already. */
    public static final String CHECKED = ExchangeGovernor.class.getName() + ".checked";

    private static final byte[] NO_BODY = new byte[0];
    private static final byte[] TOO_LARGE = new byte[0];

    private final BudgetResolver resolver;
    private final UsageTracker tracker;
    private final TollgateRequestResolver requests;
    private final PriceTable prices;
    private final TollgateProperties.Filter filter;
    private final Function<Decision, Map<String, String>> headers;

    public ExchangeGovernor(BudgetResolver resolver, UsageTracker tracker, TollgateRequestResolver requests,
                            PriceTable prices, TollgateProperties.Filter filter,
                            Function<Decision, Map<String, String>> headers) {
        this.resolver = resolver;
        this.tracker = tracker;
        this.requests = requests;
        this.prices = prices;
        this.filter = filter;
        this.headers = headers;
    }

    /**
     * Checks {@code exchange}, then runs {@code next} on it if admitted. {@code routeProvider} and {@code routeModel}
     * are what a route says (null when it says nothing).
     */
    public Mono<Void> filter(ServerWebExchange exchange, Function<ServerWebExchange, Mono<Void>> next,
                             String routeProvider, String routeModel) {
        if (exchange.getAttributes().putIfAbsent(CHECKED, Boolean.TRUE) != null) {
            // a global filter and a route filter on one exchange: the first one checks
            return next.apply(exchange);
        }
        ServerHttpRequest request = exchange.getRequest();
        if (!RequestGate.hasJsonBody(request.getMethod().name(), request.getHeaders().getContentType())) {
            return check(exchange, NO_BODY, next, routeProvider, routeModel);
        }
        return DataBufferUtils.join(request.getBody(), RequestGate.bytes(filter.getMaxBodySize()))
                .map(ExchangeGovernor::bytesOf)
                .defaultIfEmpty(NO_BODY)
                .onErrorResume(DataBufferLimitException.class, e -> Mono.just(TOO_LARGE))
                .flatMap(body -> {
                    if (body == TOO_LARGE) {
                        return write(exchange, DenialAnswer.badRequest(413, "body_too_large",
                                "the request body is larger than " + filter.getMaxBodySize()));
                    }
                    ServerWebExchange replayable = exchange.mutate().request(withBody(exchange, body)).build();
                    return check(replayable, body, next, routeProvider, routeModel);
                });
    }

    private Mono<Void> check(ServerWebExchange exchange, byte[] body, Function<ServerWebExchange, Mono<Void>> next,
                             String routeProvider, String routeModel) {
        ServerHttpRequest request = exchange.getRequest();
        RequestGate gate = RequestGate.of(requests, new TollgateRequest(request.getMethod().name(),
                request.getPath().value(), request.getHeaders(), body, routeProvider, routeModel), filter);
        if (gate.refusal() != null) {
            return write(exchange, gate.refusal());
        }
        CheckRequest check = gate.check();
        if (check == null) {
            return next.apply(exchange);
        }
        String requestId = RequestGate.requestId(request.getHeaders().getFirst(filter.getRequestIdHeader()));
        return Mono.fromCompletionStage(() -> resolver.checkAsync(check)).map(Optional::of)
                // no failure policy in front of the store: refuse rather than guess
                .onErrorResume(StoreException.class, e -> Mono.just(Optional.empty()))
                .flatMap(answer -> answer.isEmpty() ? write(exchange, DenialAnswer.storeUnavailable())
                        : admit(exchange, next, check, answer.get(), requestId));
    }

    private Mono<Void> admit(ServerWebExchange exchange, Function<ServerWebExchange, Mono<Void>> next,
                             CheckRequest check, Decision decision, String requestId) {
        Map<String, String> fields = headers.apply(decision);
        if (!decision.allowed()) {
            return write(exchange, DenialAnswer.of(decision, fields));
        }
        ServerHttpResponse response = exchange.getResponse();
        fields.forEach(response.getHeaders()::set);
        MeteredResponse metered = new MeteredResponse(response,
                new UsageCharge(tracker, prices, check, decision, requestId),
                RequestGate.bytes(filter.getMaxAnswerSize()));
        return next.apply(exchange.mutate().response(metered).build())
                .doFinally(signal -> metered.exchangeEnded());
    }

    private static byte[] bytesOf(DataBuffer buffer) {
        try {
            byte[] bytes = new byte[buffer.readableByteCount()];
            buffer.read(bytes);
            return bytes;
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    /** The request with its body read already, so that what comes after reads the same bytes again. */
    private static ServerHttpRequest withBody(ServerWebExchange exchange, byte[] body) {
        return new ServerHttpRequestDecorator(exchange.getRequest()) {
            @Override
            public Flux<DataBuffer> getBody() {
                return Flux.defer(() -> Flux.just(exchange.getResponse().bufferFactory().wrap(body)));
            }
        };
    }

    static Mono<Void> write(ServerWebExchange exchange, DenialAnswer answer) {
        ServerHttpResponse response = exchange.getResponse();
        response.setStatusCode(HttpStatusCode.valueOf(answer.status()));
        answer.headers().forEach(response.getHeaders()::set);
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        response.getHeaders().setContentLength(answer.body().length);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(answer.body())));
    }

    /** The response, metering the usage in its body as it is written, and charging once it has ended. */
    private static final class MeteredResponse extends ServerHttpResponseDecorator {

        private final UsageCharge charge;
        private final int maxJsonBytes;
        private AnswerMeter meter;
        private volatile boolean bodyStarted;

        MeteredResponse(ServerHttpResponse response, UsageCharge charge, int maxJsonBytes) {
            super(response);
            this.charge = charge;
            this.maxJsonBytes = maxJsonBytes;
        }

        @Override
        public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
            bodyStarted = true;
            return super.writeWith(Flux.from(body).doOnNext(this::meter).doFinally(signal -> answerEnded()));
        }

        @Override
        public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
            bodyStarted = true;
            return super.writeAndFlushWith(Flux.from(body).map(part -> Flux.from(part).doOnNext(this::meter))
                    .doFinally(signal -> answerEnded()));
        }

        private void meter(DataBuffer buffer) {
            if (meter == null) {
                MediaType type = getHeaders().getContentType();
                meter = AnswerMeter.forContentType(type == null ? null : type.toString(), maxJsonBytes);
            }
            try (DataBuffer.ByteBufferIterator parts = buffer.readableByteBuffers()) {
                while (parts.hasNext()) {
                    meter.accept(parts.next());
                }
            }
        }

        /** The exchange is over: an answer without a body is charged now, one with a body when it ended. */
        void exchangeEnded() {
            if (!bodyStarted) {
                answerEnded();
            }
        }

        private void answerEnded() {
            HttpStatusCode status = getStatusCode();
            charge.finish(meter == null ? Optional.empty() : meter.usage(), status == null || status.value() < 400);
        }
    }
}
