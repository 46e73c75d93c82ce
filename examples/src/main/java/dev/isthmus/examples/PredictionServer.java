// The HTTP face of a Predictor, on the JDK's own HTTP server (jdk.httpserver) with one virtual
// thread per exchange: POST /v1/predict (a PNG image or JSON pixels), GET /health, GET /metrics.
// Errors are 4xx answers with a JSON body naming the problem; no stack trace leaves the process.
package dev.isthmus.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.DynamicBatcher;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Predictor;
import dev.isthmus.nn.Preprocessing;
import dev.isthmus.nn.io.Json;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * Serves one {@link Predictor} (optionally through a {@link DynamicBatcher}) over HTTP.
 * Thread-safe: every exchange runs on its own virtual thread; the predictor and metrics are shared.
 */
final class PredictionServer implements AutoCloseable {
    /** A request the server refuses: the status and the message of its JSON error. */
    static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final Predictor predictor;
    private final DynamicBatcher batcher;   // null: each request calls the predictor itself
    private final Model model;
    private final int maxBodyBytes;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final ServerMetrics metrics = new ServerMetrics();
    private final int in, classes;

    PredictionServer(Predictor predictor, DynamicBatcher batcher, InetSocketAddress address, int maxBodyBytes) throws IOException {
        this.predictor = predictor;
        this.batcher = batcher;
        this.model = predictor.model();
        this.maxBodyBytes = maxBodyBytes;
        this.in = Math.toIntExact(model.inputShape().elements());
        this.classes = Math.toIntExact(model.outputShape().elements());
        this.server = HttpServer.create(address, 1024);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Starts answering (bound already by the constructor: connections queue until now). */
    PredictionServer start() {
        server.start();
        return this;
    }

    /** The bound port (useful with port 0). */
    int port() { return server.getAddress().getPort(); }

    ServerMetrics metrics() { return metrics; }

    private void handle(HttpExchange ex) {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                switch (path) {
                    case "/v1/predict" -> {
                        requireMethod(method, "POST", path);
                        predict(ex);
                    }
                    case "/health" -> {
                        requireMethod(method, "GET", path);
                        send(ex, 200, "application/json", Json.writeCompact(Map.of("status", "ok", "model", model.name())));
                    }
                    case "/metrics" -> {
                        requireMethod(method, "GET", path);
                        send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.text());
                    }
                    default -> throw new BadRequest(404, "unknown path " + path + "; the paths are POST /v1/predict, GET /health, GET /metrics");
                }
            } catch (BadRequest e) {
                if (path.equals("/v1/predict")) metrics.errors.increment();
                if (e.status == 413) {
                    ex.getResponseHeaders().set("Connection", "close");   // the unread body makes the connection unusable
                } else {
                    ex.getRequestBody().skip(maxBodyBytes);   // what an early error left unread: the connection stays usable
                }
                error(ex, e.status, e.getMessage());
            } catch (RejectedExecutionException e) {
                metrics.errors.increment();
                error(ex, 503, e.getMessage());
            } catch (IllegalStateException e) {   // the predictor is closing
                metrics.errors.increment();
                error(ex, 503, e.getMessage());
            }
        } catch (IOException e) {
            // the client went away mid-request: nothing to answer, nothing kept
        } catch (RuntimeException e) {
            metrics.errors.increment();
            try {
                error(ex, 500, "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            } catch (IOException ignored) {
                // the client is gone
            }
        }
    }

    private static void requireMethod(String method, String expected, String path) throws BadRequest {
        if (!method.equals(expected)) throw new BadRequest(405, path + " takes " + expected + ", got " + method);
    }

    private void predict(HttpExchange ex) throws IOException, BadRequest {
        long t0 = System.nanoTime();
        metrics.requests.increment();
        int k = k(ex.getRequestURI().getRawQuery());
        byte[] body = body(ex);
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        type = type == null ? "" : type.toLowerCase(Locale.ROOT);
        float[] x;
        if (type.startsWith("image/png")) x = fromPng(body);
        else if (type.startsWith("application/json")) x = fromJson(body);
        else throw new BadRequest(415, "Content-Type must be image/png or application/json, got '" + type + "'");
        float[] logits = new float[classes];
        if (batcher != null) {
            DynamicBatcher.Timing t = batcher.predict(x, logits);
            metrics.queue.observe(t.queueNanos() / 1e9);
            metrics.compute.observe(t.computeNanos() / 1e9);
            metrics.batches.observe(t.batch());
        } else {
            long p0 = System.nanoTime();
            predictor.predict(x, 1, logits);
            metrics.queue.observe(0);
            metrics.compute.observe((System.nanoTime() - p0) / 1e9);
            metrics.batches.observe(1);
        }
        List<Map<String, Object>> top = new ArrayList<>();
        for (Predictor.Prediction p : Predictor.top(logits, k, model.labels())) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", p.index());
            m.put("label", p.label());
            m.put("probability", Math.round(p.probability() * 1e6) / 1e6);
            top.add(m);
        }
        long micros = (System.nanoTime() - t0) / 1000;
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("top", top);
        answer.put("model", model.name());
        answer.put("micros", micros);
        send(ex, 200, "application/json", Json.writeCompact(answer));
        metrics.latency.observe((System.nanoTime() - t0) / 1e9);
    }

    private int k(String query) throws BadRequest {
        int k = Math.min(5, classes);
        if (query == null) return k;
        for (String part : query.split("&")) {
            if (!part.startsWith("k=")) continue;
            try {
                k = Integer.parseInt(part.substring(2));
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "k must be an integer, got '" + part.substring(2) + "'");
            }
            if (k < 1 || k > classes) throw new BadRequest(400, "k must be in [1, " + classes + "], got " + k);
        }
        return k;
    }

    /** Reads the body, refusing more than {@link #maxBodyBytes} (by Content-Length, or while reading). */
    private byte[] body(HttpExchange ex) throws IOException, BadRequest {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > maxBodyBytes) {
                    throw new BadRequest(413, "body of " + length.trim() + " bytes is over the limit of " + maxBodyBytes + " bytes");
                }
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "Content-Length is not a number: '" + length + "'");
            }
        }
        InputStream s = ex.getRequestBody();
        byte[] data = s.readNBytes(maxBodyBytes + 1);
        if (data.length > maxBodyBytes) throw new BadRequest(413, "body is over the limit of " + maxBodyBytes + " bytes");
        if (data.length == 0) throw new BadRequest(400, "the body is empty: send a PNG image or {\"pixels\": [...]}");
        return data;
    }

    /** A PNG of the model's raw image size, preprocessed as the model file says. */
    private float[] fromPng(byte[] body) throws BadRequest {
        Preprocessing pre = model.preprocessing();
        if (pre == null) throw new BadRequest(415, "model '" + model.name() + "' has no image preprocessing: send JSON pixels");
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(body));
        } catch (IOException | RuntimeException e) {
            image = null;
        }
        if (image == null) throw new BadRequest(400, "the body is not a PNG image (" + body.length + " bytes)");
        Shape s = model.inputShape();
        int c = s.dim(0), h = s.dim(1) - 2 * pre.pad(), w = s.dim(2) - 2 * pre.pad();
        if (image.getWidth() != w || image.getHeight() != h) {
            throw new BadRequest(400, "the image is " + image.getWidth() + "x" + image.getHeight() + ", model '" + model.name()
                    + "' takes " + w + "x" + h + (c == 1 ? " grayscale" : " RGB"));
        }
        int[] raw = new int[c * h * w];
        var raster = image.getRaster();
        if (c == 1 && raster.getNumBands() <= 2) {   // gray (and alpha): the samples themselves; getRGB would gamma-convert them
            int shift = raster.getSampleModel().getSampleSize(0) - 8;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = raster.getSample(x, y, 0);
                    raw[y * w + x] = shift >= 0 ? v >> shift : v * 255 / ((1 << (shift + 8)) - 1);
                }
            }
            float[] out = new float[in];
            pre.apply(raw, c, h, w, out);
            return out;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
                if (c == 1) raw[y * w + x] = (r * 299 + g * 587 + b * 114 + 500) / 1000;   // luma, as ImageIO's gray
                else for (int ch = 0; ch < 3; ch++) raw[(ch * h + y) * w + x] = ch == 0 ? r : ch == 1 ? g : b;
            }
        }
        float[] out = new float[in];
        pre.apply(raw, c, h, w, out);
        return out;
    }

    /** {"pixels": [...]}: the model's input values, row-major (nested arrays are flattened). */
    private float[] fromJson(byte[] body) throws BadRequest {
        Map<String, Object> m;
        try {
            m = Json.readObject(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, "the body is not valid JSON: " + e.getMessage());
        }
        if (!(m.get("pixels") instanceof List<?> pixels)) throw new BadRequest(400, "expected {\"pixels\": [...]}, got keys " + m.keySet());
        float[] out = new float[in];
        int n = flatten(pixels, out, 0);
        if (n != in) {
            throw new BadRequest(400, "pixels: expected " + in + " values (input " + model.inputShape() + ", row-major, preprocessed), got " + n);
        }
        return out;
    }

    private int flatten(List<?> values, float[] out, int at) throws BadRequest {
        for (Object v : values) {
            if (v instanceof List<?> inner) {
                at = flatten(inner, out, at);
            } else if (v instanceof Number num) {
                if (at < out.length) out[at] = num.floatValue();
                at++;
            } else {
                throw new BadRequest(400, "pixels: expected numbers, got " + (v == null ? "null" : "'" + v + "'"));
            }
        }
        return at;
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        send(ex, status, "application/json", Json.writeCompact(Map.of("error", message)));
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Decodes and answers {@code rounds} blank images in process (no socket), so the JIT has the request path compiled. */
    void warmUp(int rounds) throws IOException {
        Preprocessing pre = model.preprocessing();
        Shape s = model.inputShape();
        if (pre == null || s.rank() != 3) return;
        byte[] png = png(new int[s.dim(1) - 2 * pre.pad()][s.dim(2) - 2 * pre.pad()]);
        float[] logits = new float[classes];
        for (int i = 0; i < rounds; i++) {
            try {
                float[] x = fromPng(png);
                predictor.predict(x, 1, logits);
                Predictor.top(logits, Math.min(5, classes), model.labels());
            } catch (BadRequest e) {
                return;   // an RGB model: png() writes gray images
            }
        }
    }

    /** Stops accepting, gives running exchanges up to a second, then stops the threads. */
    @Override public void close() {
        server.stop(1);
        executor.close();
    }

    /** A grayscale PNG of {@code pixels} (H, W) in [0, 255], for tests and the README's request. */
    static byte[] png(int[][] pixels) throws IOException {
        BufferedImage image = new BufferedImage(pixels[0].length, pixels.length, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < pixels.length; y++) {
            for (int x = 0; x < pixels[0].length; x++) image.getRaster().setSample(x, y, 0, pixels[y][x]);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}
