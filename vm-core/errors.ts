/**
 * The errors heaplab reports to its users. The CLI prints their message as one
 * line and exits with the code they carry; anything else is a bug and keeps its
 * stack trace.
 */

/** Bad input: an unknown name, a malformed size, an impossible configuration. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  override name = 'UsageError';
}

/** The heap cannot hold what the program keeps alive. Exit code 3. */
export class OutOfMemoryError extends Error {
  readonly exitCode = 3;
  override name = 'OutOfMemoryError';
}

/** A heap invariant does not hold: a collector (or a workload) is broken. */
export class VerificationError extends Error {
  override name = 'VerificationError';
  constructor(readonly when: string, readonly problems: string[]) {
    super(`heap verification failed ${when}: ${problems.length} problem(s); first: ${problems.slice(0, 3).join('; ')}`);
  }
}
