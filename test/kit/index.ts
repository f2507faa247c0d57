/**
 * The heaplab property-test kit: test any collector plug-in with one call.
 *
 *   import { checkCollector } from './test/kit/index.js';
 *   checkCollector(myPlugin, { runs: 1000, heapBytes: 64 * 1024, regionBytes: 4096, stressGc: 3 });
 *
 * See check-collector.ts for what a run checks and how failures are reported,
 * program.ts for the generated operations, configurations.ts for the standard
 * configurations the suite runs every registered collector in.
 */
export { type CheckCollectorOptions, type CheckSummary, type ProgramConfig, type RunStats, Program, checkCollector, defaultSeed, programArbitrary, programOf, runProgram, DEFAULT_HEAP_BYTES, DEFAULT_REGION_BYTES } from './check-collector.js';
export { type KitConfiguration, runsPerConfiguration, standardConfigurations } from './configurations.js';
export { GraphMismatch, Interpreter } from './interpreter.js';
export { KIT_STRUCTS, registerKitTypes } from './kit-types.js';
export { type OracleNode, Oracle } from './oracle.js';
export { type Op, type ProgramShape, opArbitrary, opsArbitrary, minHumongousLength } from './program.js';
