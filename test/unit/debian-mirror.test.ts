import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'debian-mirror');
const roots: string[] = [];

/** Runs scripts/debian-mirror against an apt tree holding `files` (path under /etc/apt -> content). */
function mirrorOf(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kamal-dev-apt-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, 'etc', 'apt', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  mkdirSync(join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
  return execFileSync('bash', [SCRIPT], { env: { ...process.env, APT_ROOT: root }, encoding: 'utf8' });
}

const DEB822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('scripts/debian-mirror prints exactly one mirror', () => {
  it('reads deb822 sources alone (the official Debian 12 image)', () => {
    expect(mirrorOf({ 'sources.list.d/debian.sources': DEB822 })).toBe('http://mirror.example/debian\n');
  });

  it('reads a one-line sources.list alone (debootstrap)', () => {
    expect(mirrorOf({ 'sources.list': 'deb http://one.example/debian bookworm main\n' })).toBe('http://one.example/debian\n');
  });

  it('prefers deb822 when both layouts are there', () => {
    const files = { 'sources.list.d/debian.sources': DEB822, 'sources.list': 'deb http://one.example/debian bookworm main\n' };
    expect(mirrorOf(files)).toBe('http://mirror.example/debian\n');
  });

  it("falls back to Debian's default mirror when apt names none", () => {
    expect(mirrorOf({})).toBe('http://deb.debian.org/debian\n');
  });

  it('skips a security mirror that comes first', () => {
    const files = {
      'sources.list': '# comment\ndeb-src http://src.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main\ndeb http://one.example/debian bookworm main\n',
    };
    expect(mirrorOf(files)).toBe('http://one.example/debian\n');
  });

  it('skips a security-only deb822 stanza that comes first', () => {
    const files = {
      'sources.list.d/a-security.sources': 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n',
      'sources.list.d/debian.sources': 'Types: deb\nuris: https://mirror.example/debian\nSuites: bookworm\n',
    };
    expect(mirrorOf(files)).toBe('https://mirror.example/debian\n');
  });

  it('reads past [options ...] in one-line entries, spaced or not', () => {
    expect(mirrorOf({ 'sources.list.d/a.list': 'deb [arch=amd64 signed-by=/k.gpg] http://opt.example/debian bookworm main\n' })).toBe(
      'http://opt.example/debian\n',
    );
    expect(mirrorOf({ 'sources.list.d/a.list': 'deb [ arch=amd64 ] http://opt.example/debian bookworm main\n' })).toBe('http://opt.example/debian\n');
    expect(mirrorOf({ 'sources.list.d/a.list': 'deb [trusted=yes] file:/srv/mirror bookworm main\n' })).toBe('file:/srv/mirror\n');
  });

  it('ignores a source file that is unreadable as a mirror list', () => {
    expect(mirrorOf({ 'sources.list.d/debian.sources': 'Types: deb\nURIs: cdrom:[Debian]/\n' })).toBe('http://deb.debian.org/debian\n');
  });
});
