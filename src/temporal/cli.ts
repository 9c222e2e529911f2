/**
 * Finding the Temporal CLI (dev server and Web UI): `$TEMPORAL_CLI`, then the copy
 * scripts/setup.sh builds into .idflow/bin, then `temporal` on PATH.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..', '..');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findTemporalCli(explicit?: string): string {
  if (explicit) {
    if (!executable(explicit))
      throw new Error(`TEMPORAL_CLI=${explicit} is not an executable file`);
    return explicit;
  }
  const local = join(PROJECT_ROOT, '.idflow', 'bin', 'temporal');
  if (executable(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'temporal');
    if (dir && executable(candidate)) return candidate;
  }
  throw new Error(
    'the Temporal CLI was not found: run scripts/setup.sh (it builds it into .idflow/bin), put `temporal` on PATH, or set TEMPORAL_CLI',
  );
}
