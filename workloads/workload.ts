/**
 * The workload contract. A workload is a deterministic, seeded mutator
 * program: it registers its types, runs against one Mutator, and returns its
 * result values (the proof that a port computes what its reference computes).
 *
 * Who calls what:
 *   run(ctx)   once per run, by `heaplab run` / tests / benches, after the VM
 *              exists; it registers types through ctx.types and allocates
 *              through ctx.mutator only. It may call ctx.safepoint-free code
 *              freely; any reference held across an allocation must be in a
 *              root slot (DESIGN.md, "Mutators").
 *
 * Request latency (optional): a workload made of requests (each lru-cache
 * operation is one) declares requests(params), and calls ctx.latency.begin()
 * and .end() around each request ONLY when ctx.latency is present; it checks
 * that once, outside its loop, so a run without latency pays nothing per
 * request.
 */
import type { Mutator } from '../vm-core/mutator.js';
import type { TypeRegistry } from '../vm-core/type-registry.js';

export interface ParamSpec {
  default: number;
  description: string;
}

export interface WorkloadContext {
  mutator: Mutator;
  types: TypeRegistry;
  /** Parameter values: every declared parameter, defaults filled in. */
  params: Record<string, number>;
  /** Runs a collection now (explicit GC), e.g. System.gc() in a port. */
  collect(cause?: string): void;
  /** Request latency hooks (heaplab run --latency); absent by default. Called around each request on the mutator thread. */
  latency?: RequestLatencyHooks;
}

/** What a workload calls around one request (see reports/latency.ts, RequestLatencyRecorder). */
export interface RequestLatencyHooks {
  begin(): void;
  end(): void;
}

/** Result values in print order, e.g. { hits: 4335071, misses: 664929, checksum: ..., size: 200000 }. */
export type WorkloadResult = Record<string, number>;

export interface Workload {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  /** Live size the program keeps at its peak, in bytes of heaplab objects, for a given parameter set (a guide for heap sizing). */
  expectedLiveBytes?(params: Record<string, number>): number;
  /** Present on workloads made of requests: how many requests a run with these parameters makes (sizes the latency recorder). */
  requests?(params: Record<string, number>): number;
  run(ctx: WorkloadContext): WorkloadResult;
}

/** The one-line result as the reference ports print it (without timing): `RESULT workload=... k=v ...`. */
export function resultLine(workload: string, result: WorkloadResult): string {
  return `RESULT workload=${workload} ${Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}
