/**
 * The marker worker runs compiled JavaScript (dist/vm-core/concurrent/):
 * tests that start it build first when dist is missing or older than the
 * marker's sources, so a stale worker never runs against new code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export function ensureMarkerBuilt(): void {
  const srcDir = join(root, 'vm-core/concurrent');
  const stale = readdirSync(srcDir).some((f) => {
    const js = join(root, 'dist/vm-core/concurrent', f.replace(/\.ts$/, '.js'));
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(srcDir, f)).mtimeMs;
  });
  if (stale) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
}
