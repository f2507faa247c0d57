/*
 * What the Java ports of heaplab's workloads share: integer arguments in the
 * reference ports' style (--name=value), the DaCapo-style iteration loop and
 * its markers, the JVM-uptime clock and the RESULT line.
 *
 * Output, one line each (stdout):
 *
 *   ITERATION k START <uptime ms>     before iteration k (1-based) begins
 *   RESULT workload=<name> lang=java elapsed_ms=<ms> key=value ...
 *   ITERATION k END <uptime ms>       after iteration k's RESULT line
 *
 * <uptime ms> is milliseconds since the JVM started, on the clock HotSpot's
 * unified logging prints as its `uptime` / `uptimenanos` decorations
 * (RuntimeMXBean.getUptime() reads the same elapsed counter; we refine its
 * whole milliseconds with System.nanoTime, calibrated once at a millisecond
 * edge), so heaplab can keep only the pauses of the last iteration.
 *
 * `--iterations=N` (default 1) runs the whole workload N times in this JVM.
 */
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

final class PortHarness {
    /** One run of a workload from fresh state; returns its result values in print order. */
    interface Workload {
        LinkedHashMap<String, Long> run(Map<String, Long> params);
    }

    private static long calibrationUptimeMs;
    private static long calibrationNanos;

    private PortHarness() {}

    /** Calibrates the uptime clock: waits for getUptime() to tick, then pairs that millisecond with nanoTime. */
    private static void calibrateClock() {
        RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        long first = runtime.getUptime();
        long now = first;
        long nanos = System.nanoTime();
        while (now == first) {
            nanos = System.nanoTime();
            now = runtime.getUptime();
        }
        calibrationUptimeMs = now;
        calibrationNanos = nanos;
    }

    /** Milliseconds since the JVM started, with sub-millisecond resolution. */
    static double uptimeMs() {
        return calibrationUptimeMs + (System.nanoTime() - calibrationNanos) / 1e6;
    }

    /** Parses --name=integer arguments against the defaults (plus --iterations); exits 2 on a bad one. */
    static LinkedHashMap<String, Long> parseArgs(String workload, String[] args, LinkedHashMap<String, Long> defaults) {
        LinkedHashMap<String, Long> params = new LinkedHashMap<>(defaults);
        params.put("iterations", 1L);
        for (String arg : args) {
            if (!arg.matches("--[a-z][a-z-]*=-?[0-9]+")) fail(workload, "bad argument '" + arg + "' (expected --name=integer)");
            int eq = arg.indexOf('=');
            String name = arg.substring(2, eq);
            if (!params.containsKey(name)) fail(workload, "unknown argument '" + arg + "' (known: " + String.join(", ", params.keySet()) + ")");
            try {
                params.put(name, Long.parseLong(arg.substring(eq + 1)));
            } catch (NumberFormatException e) {
                fail(workload, "argument '" + arg + "' is out of range");
            }
        }
        if (params.get("iterations") < 1) fail(workload, "--iterations must be at least 1");
        return params;
    }

    static void fail(String workload, String message) {
        System.err.println(workload + ": " + message);
        System.exit(2);
    }

    /** Runs the workload --iterations times, printing the markers and one RESULT line per iteration. */
    static void main(String workload, String[] args, LinkedHashMap<String, Long> defaults, Workload body) {
        LinkedHashMap<String, Long> params = parseArgs(workload, args, defaults);
        long iterations = params.remove("iterations");
        calibrateClock();
        for (long k = 1; k <= iterations; k++) {
            System.out.println(String.format(Locale.ROOT, "ITERATION %d START %.3f", k, uptimeMs()));
            long t0 = System.nanoTime();
            LinkedHashMap<String, Long> values = body.run(params);
            double elapsedMs = (System.nanoTime() - t0) / 1e6;
            StringBuilder line = new StringBuilder("RESULT workload=").append(workload)
                .append(" lang=java elapsed_ms=").append(String.format(Locale.ROOT, "%.1f", elapsedMs));
            for (Map.Entry<String, Long> v : values.entrySet()) line.append(' ').append(v.getKey()).append('=').append(v.getValue());
            System.out.println(line);
            System.out.println(String.format(Locale.ROOT, "ITERATION %d END %.3f", k, uptimeMs()));
            System.out.flush();
        }
    }
}
