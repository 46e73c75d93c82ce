-- wrk script: POST the PNG named by environment PNG to /v1/predict. wrk itself prints
-- "Non-2xx or 3xx responses: N" when any answer was not 200; done() prints p50 and p99.
local f = assert(io.open(os.getenv("PNG"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/png"

function done(summary, latency, requests)
  io.write(string.format("summary: %d requests in %.2f s, %.0f req/s; p50 %.1f us, p99 %.1f us, max %.1f us; errors %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
