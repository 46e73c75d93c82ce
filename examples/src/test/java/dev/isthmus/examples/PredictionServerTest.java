package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.nn.DynamicBatcher;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Predictor;
import dev.isthmus.nn.Preprocessing;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.io.Json;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP endpoints through a real socket, with good and bad requests, with and without dynamic batching. */
class PredictionServerTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private record Answer(int status, String body) {
        Map<String, Object> json() { return Json.readObject(body); }
    }

    private static Answer send(int port, String method, String path, String type, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (type != null) b.header("Content-Type", type);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    private static int[][] digit(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] px = new int[28][28];
        for (int y = 6; y < 22; y++) for (int x = 10; x < 18; x++) px[y][x] = r.nextInt(256);
        return px;
    }

    @SuppressWarnings("unchecked")
    private static void assertSameTop(List<Predictor.Prediction> expected, Map<String, Object> answer) {
        List<Object> top = (List<Object>) answer.get("top");
        assertEquals(expected.size(), top.size(), "top entries: " + answer);
        for (int i = 0; i < top.size(); i++) {
            Map<String, Object> t = (Map<String, Object>) top.get(i);
            assertEquals((long) expected.get(i).index(), t.get("index"), "index " + i + " of " + answer);
            assertEquals(expected.get(i).label(), t.get("label"));
            assertEquals(expected.get(i).probability(), ((Number) t.get("probability")).doubleValue(), 1e-6);
        }
        assertTrue(answer.get("micros") instanceof Long, "micros: " + answer);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void goodAndBadRequests(boolean batching) throws Exception {
        Model model;
        try (Backend ref = new ReferenceBackend();
             Sequential s = LeNet5.classic().compile(ref, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 7)) {
            model = Model.of("LeNet-5 test", s, null, Preprocessing.mnist());
        }
        try (model;
             Predictor predictor = Predictor.createOwning(model, new DnnlBackend(), Predictor.Options.defaults().withMaxBatch(8));
             DynamicBatcher batcher = batching ? new DynamicBatcher(predictor, 8, 100) : null;
             PredictionServer server = new PredictionServer(predictor, batcher, new InetSocketAddress("127.0.0.1", 0), 64 * 1024).start()) {
            int port = server.port();
            int[][] px = digit(3);
            int[] raw = new int[28 * 28];
            for (int y = 0; y < 28; y++) System.arraycopy(px[y], 0, raw, y * 28, 28);
            float[] x = new float[32 * 32];
            Preprocessing.mnist().apply(raw, 1, 28, 28, x);

            Answer png = send(port, "POST", "/v1/predict", "image/png", PredictionServer.png(px));
            assertEquals(200, png.status, png.body);
            assertSameTop(predictor.top(x, 5), png.json());
            assertEquals("LeNet-5 test", png.json().get("model"));

            List<Object> pixels = new ArrayList<>();
            for (float v : x) pixels.add((double) v);
            byte[] json = Json.writeCompact(Map.of("pixels", pixels)).getBytes(StandardCharsets.UTF_8);
            Answer j = send(port, "POST", "/v1/predict?k=3", "application/json", json);
            assertEquals(200, j.status, j.body);
            assertSameTop(predictor.top(x, 3), j.json());

            expectError(send(port, "POST", "/v1/predict", "application/json",
                    "{\"pixels\": [1, 2, 3]}".getBytes(StandardCharsets.UTF_8)), 400, "pixels: expected 1024 values (input [1, 32, 32]");
            expectError(send(port, "POST", "/v1/predict", "application/json",
                    "{\"pixels\": [1, 2,".getBytes(StandardCharsets.UTF_8)), 400, "not valid JSON");
            expectError(send(port, "POST", "/v1/predict", "image/png", PredictionServer.png(new int[20][20])), 400,
                    "the image is 20x20, model 'LeNet-5 test' takes 28x28 grayscale");
            expectError(send(port, "POST", "/v1/predict", "image/png", "not a png".getBytes(StandardCharsets.UTF_8)), 400,
                    "not a PNG image");
            expectError(send(port, "POST", "/v1/predict", "image/png", new byte[64 * 1024 + 1]), 413, "over the limit of 65536 bytes");
            expectError(send(port, "POST", "/v1/predict", "text/plain", json), 415, "Content-Type must be image/png or application/json");
            expectError(send(port, "POST", "/v1/predict?k=11", "application/json", json), 400, "k must be in [1, 10], got 11");
            expectError(send(port, "GET", "/v1/predict", null, null), 405, "/v1/predict takes POST, got GET");
            expectError(send(port, "GET", "/nowhere", null, null), 404, "unknown path /nowhere");

            try (Socket gone = new Socket("127.0.0.1", port)) {   // a client that leaves mid-body
                OutputStream o = gone.getOutputStream();
                o.write(("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n12345")
                        .getBytes(StandardCharsets.US_ASCII));
                o.flush();
            }

            Answer again = send(port, "POST", "/v1/predict", "image/png", PredictionServer.png(px));
            assertEquals(200, again.status, "the server keeps serving after bad requests: " + again.body);

            Answer health = send(port, "GET", "/health", null, null);
            assertEquals(200, health.status);
            assertEquals("ok", health.json().get("status"));

            Answer metrics = send(port, "GET", "/metrics", null, null);
            assertEquals(200, metrics.status);
            String m = metrics.body;
            // 8 bad requests on /v1/predict (the 404 is not one), 9 if the departed client's 5 bytes were read before it left
            assertTrue(m.matches("(?s).*isthmus_errors_total [89]\n.*"), m);
            assertTrue(m.contains("isthmus_request_duration_seconds_bucket{le=\"1e-05\"}"), m);
            assertTrue(m.contains("isthmus_request_duration_seconds_count 3\n"), m);
            assertTrue(m.contains("isthmus_batch_size_count 3\n"), m);
            assertTrue(m.matches("(?s).*isthmus_resident_memory_bytes [1-9][0-9]*\n.*"), m);
        }
    }

    private static void expectError(Answer a, int status, String fragment) {
        assertEquals(status, a.status, a.body);
        Object error = a.json().get("error");
        assertTrue(error instanceof String s && s.contains(fragment), "expected an error containing '" + fragment + "', got " + a.body);
    }
}
