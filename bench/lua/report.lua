-- Shared wrk reporter: one machine-readable line that bench/api.sh parses.
-- Latencies are in microseconds (wrk's unit), so no unit parsing is needed.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "TL_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d " ..
        "max_us=%d non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.status, e.connect + e.read + e.write + e.timeout))
end
