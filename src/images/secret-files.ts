import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Build secrets as files for `--secret id=NAME,src=FILE`: each mode 600 in a folder of its own
 * (mkdtemp makes it 700), there only while `body` runs. Not the child's environment: a file is the one
 * way the rule for secret values (docs/configuration.md) allows besides stdin.
 */
export async function withSecretFiles<T>(values: Record<string, string>, body: (files: Record<string, string>) => Promise<T>): Promise<T> {
  if (Object.keys(values).length === 0) return body({});
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-build-secrets-'));
  try {
    const files = Object.fromEntries(
      Object.entries(values).map(([name, value]) => {
        const file = join(dir, name);
        writeFileSync(file, value, { mode: 0o600 });
        return [name, file];
      }),
    );
    return await body(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
