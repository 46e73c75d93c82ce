// `isthmus serve`: a model file behind HTTP. Loads the file (Model.load: the architecture is in
// its metadata), makes a Predictor on the chosen backend, optionally a DynamicBatcher, and serves
// POST /v1/predict, GET /health and GET /metrics until the process is stopped (Ctrl-C, SIGTERM),
// then closes everything in order: server, batcher, predictor, backend.
package dev.isthmus.examples;

import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.nn.DynamicBatcher;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Predictor;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;

/** Serves predictions of one model file over HTTP. */
final class ServeCommand implements Command {
    private final Args.Spec spec = new Args.Spec()
            .description("Serves a model file over HTTP (the JDK's HTTP server, one virtual thread per request):\n"
                    + "  POST /v1/predict   Content-Type image/png (a raw image, preprocessed as the model file says)\n"
                    + "                     or application/json {\"pixels\": [...]} (input values, row-major); ?k=N for the top N\n"
                    + "  GET  /health       {\"status\":\"ok\",...}\n"
                    + "  GET  /metrics      Prometheus text: requests, errors, latency, queue time, batch sizes, memory\n"
                    + "Bad requests get a 4xx with a JSON error. --max-batch above 1 turns on dynamic batching.")
            .flag("model", "FILE", null, "the model file (model.safetensors written by ./isthmus lenet, or Model.save)")
            .flag("port", "N", "8080", "TCP port (0: any free port)")
            .flag("host", "ADDR", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
            .flag("backend", "NAME", "dnnl", "dnnl (oneDNN), simd (Vector API), reference (scalar), opencl or cuda")
            .flag("contexts", "N", null, "execution contexts: requests computed at once (default: available processors)")
            .flag("max-batch", "N", "1", "dynamic batching: up to N queued requests run as one batch (1: off)")
            .flag("max-delay-us", "N", "0", "dynamic batching: wait up to N microseconds for a batch to fill (0: take what is queued)")
            .flag("max-body-bytes", "N", "1048576", "the largest request body accepted (larger: 413)")
            .example("serve --model runs/lenet-20261127-111627/model.safetensors")
            .example("serve --model model.safetensors --port 9000 --max-batch 32 --max-delay-us 200");

    @Override public String name() { return "serve"; }

    @Override public String summary() { return "serve a model file over HTTP: predictions, health, Prometheus metrics"; }

    @Override public Args.Spec spec() { return spec; }

    @Override public int run(Args args, PrintStream out) throws Exception {
        if (!args.has("model")) throw new Args.UsageError("--model FILE is required");
        var file = args.existingFile("model");
        int port = args.intInRange("port", 0, 65535);
        BackendKind kind = args.choice("backend", BackendKind.values());
        int maxBatch = args.intInRange("max-batch", 1, 4096);
        int delay = args.intInRange("max-delay-us", 0, 10_000_000);
        int maxBody = args.intInRange("max-body-bytes", 1024, 1 << 30);
        var options = Predictor.Options.defaults().withMaxBatch(maxBatch);
        if (args.has("contexts")) options = options.withContexts(args.positiveInt("contexts"));
        CountDownLatch stopped = new CountDownLatch(1), closed = new CountDownLatch(1);
        try (Model model = Model.load(file);
             Predictor predictor = Predictor.createOwning(model, Backends.create(kind), options);
             DynamicBatcher batcher = maxBatch > 1 ? new DynamicBatcher(predictor, maxBatch, delay) : null;
             PredictionServer server = new PredictionServer(predictor, batcher,
                     new InetSocketAddress(args.string("host"), port), maxBody)) {
            long w0 = System.nanoTime();
            predictor.warmUp(1, 500);   // plans made in every context and the JIT done before the first request
            for (int b = 2; b < 2 * maxBatch; b *= 2) predictor.warmUp(Math.min(b, maxBatch), 20);   // every padded size
            server.warmUp(300);
            server.start();
            out.printf("warmed up in %.1f s%n", (System.nanoTime() - w0) / 1e9);
            out.printf("serving %s (%,d parameters, input %s, %d classes) on %s%n", model.name(), model.parameterCount(),
                    model.inputShape(), model.labels().size(), predictor.backend().describe());
            out.printf("%s; %d contexts%n", batcher == null ? "no dynamic batching"
                    : "dynamic batching: up to " + maxBatch + " requests, " + delay + " us", options.contexts());
            out.printf("listening on http://%s:%d (POST /v1/predict, GET /health, GET /metrics); Ctrl-C stops%n",
                    args.string("host"), server.port());
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopped.countDown();
                try {
                    closed.await(5, java.util.concurrent.TimeUnit.SECONDS);   // let the try-with-resources close everything
                } catch (InterruptedException ignored) {
                    // exiting anyway
                }
            }));
            stopped.await();
            out.println("stopping");
        } finally {
            closed.countDown();
        }
        return 0;
    }
}
