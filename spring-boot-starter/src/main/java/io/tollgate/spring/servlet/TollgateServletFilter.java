package io.tollgate.spring.servlet;

import io.tollgate.BudgetResolver;
import io.tollgate.CheckRequest;
import io.tollgate.Decision;
import io.tollgate.StoreException;
import io.tollgate.UsageTracker;
import io.tollgate.spring.TollgateHeaders;
import io.tollgate.spring.TollgateProperties;
import io.tollgate.spring.TollgateRequest;
import io.tollgate.spring.TollgateRequestResolver;
import io.tollgate.spring.web.DenialAnswer;
import io.tollgate.spring.web.RequestGate;
import io.tollgate.spring.web.UsageCharge;
import io.tollgate.usage.PriceTable;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.util.Map;

/**
 * Checks every request of a servlet service that is its own gateway, and charges its answer once it has been written
 * (for an asynchronous request, once it completes): reads a JSON body (bounded), asks the
 * {@link TollgateRequestResolver} for the check, answers a denial with the decision's status, headers and body, and
 * otherwise passes the request on with the decision's rate-limit headers and a response that meters the usage it
 * writes.
 *
 * <p>Thread-safe.
 */
public final class TollgateServletFilter extends OncePerRequestFilter {

    private static final byte[] NO_BODY = new byte[0];

    private final BudgetResolver resolver;
    private final UsageTracker tracker;
    private final TollgateRequestResolver requests;
    private final PriceTable prices;
    private final TollgateProperties.Filter filter;
    private final TollgateHeaders headers;

    public TollgateServletFilter(BudgetResolver resolver, UsageTracker tracker, TollgateRequestResolver requests,
                                 PriceTable prices, TollgateProperties.Filter filter, TollgateHeaders headers) {
        this.resolver = resolver;
        this.tracker = tracker;
        this.requests = requests;
        this.prices = prices;
        this.filter = filter;
        this.headers = headers;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        byte[] body = NO_BODY;
        HttpServletRequest forwarded = request;
        if (hasJsonBody(request)) {
            long max = filter.getMaxBodySize().toBytes();
            // one byte past the bound tells a body too large from one that fits exactly
            body = request.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (body.length > max) {
                write(response, DenialAnswer.badRequest(413, "body_too_large",
                        "the request body is larger than " + filter.getMaxBodySize()));
                return;
            }
            forwarded = new ReadBodyRequest(request, body);
        }
        RequestGate gate = RequestGate.of(requests, new TollgateRequest(request.getMethod(), request.getRequestURI(),
                new ServletServerHttpRequest(request).getHeaders(), body, null, null), filter);
        if (gate.refusal() != null) {
            write(response, gate.refusal());
            return;
        }
        CheckRequest check = gate.check();
        if (check == null) {
            chain.doFilter(forwarded, response);
            return;
        }
        Decision decision;
        try {
            decision = resolver.check(check);
        } catch (StoreException e) {
            // no failure policy in front of the store: refuse rather than guess
            write(response, DenialAnswer.storeUnavailable());
            return;
        }
        Map<String, String> fields = headers.of(decision);
        if (!decision.allowed()) {
            write(response, DenialAnswer.of(decision, fields));
            return;
        }
        fields.forEach(response::setHeader);
        UsageCharge charge = new UsageCharge(tracker, prices, check, decision,
                RequestGate.requestId(request.getHeader(filter.getRequestIdHeader())));
        MeteredResponse metered = new MeteredResponse(response, RequestGate.bytes(filter.getMaxAnswerSize()));
        boolean async = false;
        try {
            chain.doFilter(forwarded, metered);
            async = forwarded.isAsyncStarted();
        } finally {
            if (async) {
                forwarded.getAsyncContext().addListener(new ChargeWhenComplete(charge, metered));
            } else {
                charge.finish(metered.usage(), metered.getStatus() < 400);
            }
        }
    }

    private static boolean hasJsonBody(HttpServletRequest request) {
        String contentType = request.getContentType();
        try {
            return RequestGate.hasJsonBody(request.getMethod(),
                    contentType == null ? null : MediaType.parseMediaType(contentType));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void write(HttpServletResponse response, DenialAnswer answer) throws IOException {
        response.setStatus(answer.status());
        answer.headers().forEach(response::setHeader);
        response.setContentType(DenialAnswer.CONTENT_TYPE);
        response.setContentLength(answer.body().length);
        response.getOutputStream().write(answer.body());
    }

    /** Charges an asynchronous request once it completes, times out or fails. */
    private record ChargeWhenComplete(UsageCharge charge, MeteredResponse metered) implements AsyncListener {

        @Override
        public void onComplete(AsyncEvent event) {
            charge.finish(metered.usage(), metered.getStatus() < 400);
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            charge.finish(metered.usage(), false);
        }

        @Override
        public void onError(AsyncEvent event) {
            charge.finish(metered.usage(), false);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this);
        }
    }
}
