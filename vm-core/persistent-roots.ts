/**
 * Persistent roots: GCPersist's programming model (Wu et al., VEE 2020). A
 * mutator names the references whose data must survive a crash:
 *
 *   m.persistRoot('cache', ref)            ref (and everything reachable from it) is persistent
 *   m.persistRoot('log', ref, 'eager')     ... with a per-root mode (lazy | lazy-old | eager)
 *   m.persistentRoot('cache')              the root's current reference (0: none), e.g. after recovery
 *
 * Where they live: in the root slots of a holder Mutator that the VM appends to
 * its mutator list the first time a persistent root is named. Every collector
 * already scans and updates every mutator's root slots, so a persistent root is
 * an ordinary strong root to all of them (epsilon, evac, gen, ... simply keep
 * the data alive); only a persisting collector (collectors/gcpersist) also
 * reads their names and modes. The holder never allocates: its TLAB stays
 * empty and its barrier buffers stay empty.
 *
 *   holder.roots  [ root 0 | root 1 | ... | root n-1 )   sp = n
 *   names[i], modes[i]                                     (mode null: the run's default)
 */
import { UsageError } from './errors.js';
import type { Mutator } from './mutator.js';

export const PERSIST_MODES = ['lazy', 'lazy-old', 'eager'] as const;
export type PersistMode = (typeof PERSIST_MODES)[number];

/** Most persistent roots a VM may name (the holder's root slots). */
export const MAX_PERSISTENT_ROOTS = 1024;

export class PersistentRoots {
  private readonly index = new Map<string, number>();
  readonly names: string[] = [];
  readonly modes: (PersistMode | null)[] = [];
  private holderMutator: Mutator | null = null;
  /**
   * Set by a persisting collector to refuse a mode it cannot honour (gcpersist:
   * `eager` needs the write-through barrier, which is chosen per process).
   */
  checkMode: ((name: string, mode: PersistMode | null) => void) | null = null;
  /** Set by a persisting collector that writes roots through (gcpersist eager: the root is logged). */
  onSet: ((index: number, ref: number) => void) | null = null;

  constructor(private readonly newHolder: () => Mutator) {}

  /** Number of named roots. */
  get count(): number { return this.names.length; }

  /** The mutator whose root slots hold the roots (null until the first root is named). */
  get holder(): Mutator | null { return this.holderMutator; }

  /** Names (or renames the target of) a persistent root; `mode` overrides the run's default for this root. */
  set(name: string, ref: number, mode?: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new UsageError(`persistRoot: '${String(name)}' is not a root name (1 to 200 characters)`);
    if (!(Number.isInteger(ref) && ref >= 0 && (ref & 1) === 0)) throw new UsageError(`persistRoot('${name}'): ${ref} is not a reference`);
    let parsed: PersistMode | null = null;
    if (mode !== undefined) {
      if (!(PERSIST_MODES as readonly string[]).includes(mode)) throw new UsageError(`persistRoot('${name}'): unknown mode '${mode}' (modes: ${PERSIST_MODES.join(', ')})`);
      parsed = mode as PersistMode;
    }
    let i = this.index.get(name);
    if (i === undefined) {
      if (this.names.length === MAX_PERSISTENT_ROOTS) throw new UsageError(`persistRoot('${name}'): at most ${MAX_PERSISTENT_ROOTS} persistent roots`);
      this.checkMode?.(name, parsed);
      const holder = this.holderMutator ?? (this.holderMutator = this.newHolder());
      i = this.names.length;
      this.index.set(name, i);
      this.names.push(name);
      this.modes.push(parsed);
      holder.sp = i + 1;
    } else if (mode !== undefined && parsed !== this.modes[i]) {
      this.checkMode?.(name, parsed);
      this.modes[i] = parsed;
    }
    this.holderMutator!.roots[i] = ref;
    this.onSet?.(i, ref);
  }

  /** The root's reference, 0 when no root has that name. */
  get(name: string): number {
    const i = this.index.get(name);
    return i === undefined ? 0 : this.holderMutator!.roots[i];
  }

  /** The reference of root i (by naming order). */
  ref(i: number): number {
    return this.holderMutator!.roots[i];
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  /** name -> reference, in naming order. */
  entries(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]] = this.holderMutator!.roots[i];
    return out;
  }
}
