import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFile, projectIdentity } from '../../src/state/identity';

describe('projectIdentity', () => {
  const roots: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-identity-'));
    roots.push(dir);
    return dir;
  };
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it('is made once and read back', () => {
    const dir = folder();
    const id = projectIdentity(dir);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(projectIdentity(dir)).toBe(id);
    expect(readFileSync(identityFile(dir), 'utf8')).toContain(id);
  });

  it('differs between two projects whose folders share a name', () => {
    const [a, b] = [join(folder(), 'shop'), join(folder(), 'shop')];
    for (const dir of [a, b]) mkdirSync(dir, { recursive: true });
    expect(projectIdentity(a)).not.toBe(projectIdentity(b));
  });

  it('is new for a copy of a checkout, .kamal/ included, and kept by the original', () => {
    const original = folder();
    const id = projectIdentity(original);
    const copy = join(folder(), 'copy');
    cpSync(original, copy, { recursive: true });
    expect(projectIdentity(copy)).not.toBe(id);
    expect(projectIdentity(original)).toBe(id);
  });

  it('is new for a moved folder (its VMs are taken over with kamal-dev adopt)', () => {
    const dir = folder();
    const id = projectIdentity(dir);
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    roots.push(moved);
    expect(projectIdentity(moved)).not.toBe(id);
  });
});
