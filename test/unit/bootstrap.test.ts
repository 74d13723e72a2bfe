import { spawnSync } from 'node:child_process';
import { bootInstallScript, installScript, parseProbe, START_ENGINE_SCRIPT, WAIT_FOR_BOOT_SCRIPT } from '../../src/docker/bootstrap';

const probe = (o: Partial<ReturnType<typeof parseProbe>>) => ({ osId: 'debian', codename: 'bookworm', docker: '', compose: '', engine: '', ...o });

describe('bootstrap', () => {
  it('parses the probe', () => {
    expect(parseProbe('os_id=debian\nos_codename=bookworm\ndocker=20.10.24+dfsg1\ncompose=2.26.1-4\nengine=\n')).toEqual({
      osId: 'debian',
      codename: 'bookworm',
      docker: '20.10.24+dfsg1',
      compose: '2.26.1-4',
      engine: '',
    });
  });

  it('installs nothing when Docker and Compose v2 are present', () => {
    expect(installScript(probe({ docker: '20.10.24', compose: '2.26.1' }))).toBe('');
  });

  it('bookworm: docker.io (and pigz, which unpacks its pulls) from bookworm, Compose v2 from trixie behind a priority-100 pin, in one transaction', () => {
    const script = installScript(probe({}));
    expect(script).toContain('apt_install docker.io pigz docker-compose/trixie');
    expect(script).toContain('Pin-Priority: 100');
  });

  it('updates the package lists without their translations', () => {
    const script = installScript(probe({}));
    expect(script).toContain('apt_update() { apt_get update -q -o Acquire::Languages=none; }');
    expect(script.split('\n').filter((line) => line === 'apt_update')).toHaveLength(1);
  });

  it('waits for the dpkg lock a retried bootstrap may find held by the attempt before it', () => {
    for (const p of [probe({}), probe({ codename: 'trixie' }), probe({ osId: 'ubuntu', codename: 'noble' })]) {
      const script = installScript(p);
      expect(script).toContain('apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }');
      expect(script.split('\n').filter((line) => line.startsWith('apt-get'))).toEqual([]);
    }
  });

  it('bookworm with Docker but Compose v1 only installs Compose', () => {
    const script = installScript(probe({ docker: '20.10.24', compose: '1.29.2' }));
    expect(script).toContain('apt_install docker-compose/trixie');
  });

  it('trixie and Ubuntu use their own packages', () => {
    expect(installScript(probe({ codename: 'trixie' }))).toContain('apt_install docker.io pigz docker-compose');
    expect(installScript(probe({ codename: 'trixie' }))).not.toContain('trixie.sources');
    expect(installScript(probe({ osId: 'ubuntu', codename: 'noble' }))).toContain('apt_install docker.io pigz docker-compose-v2');
  });

  it('refuses other systems with a clear error', () => {
    expect(() => installScript(probe({ osId: 'alpine', codename: '' }))).toThrow(/cannot install Docker on alpine/);
  });

  it('the boot install is the full install for that OS, then the engine start', () => {
    const script = bootInstallScript({ osId: 'debian', codename: 'bookworm' })!;
    expect(script).toBe(`#!/bin/sh\n${installScript(probe({}))}\n${START_ENGINE_SCRIPT}`);
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
  });

  it('waiting for the boot install is a no-op without cloud-init', () => {
    expect(spawnSync('/bin/sh', ['-c', WAIT_FOR_BOOT_SCRIPT], { env: { PATH: '/nonexistent' }, timeout: 5_000 }).status).toBe(0);
  });
});
