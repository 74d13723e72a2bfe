import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKeyPin } from '../../src/activities/vmContext';
import type { DeployPlan } from '../../src/spec/plan';
import { recordedHostKeys } from '../../src/ssh/knownHosts';
import { projectIdentity } from '../../src/state/identity';

const vm = (over: { hostKey?: string; created?: boolean; port?: number } = {}) => ({ ssh: { host: '10.0.0.5', port: over.port ?? 2222, user: 'root' }, ...over });

/** A plan as a worker on another machine gets it (the source's folder is not here), or as the source has it. */
function plan(over: { projectDir?: string; identity?: string; provider?: DeployPlan['provider']; ssh?: Partial<DeployPlan['ssh']> } = {}): DeployPlan {
  return {
    projectDir: over.projectDir ?? join(tmpdir(), 'kamal-dev-not-on-this-machine', 'shop'),
    identity: over.identity ?? 'source-identity',
    provider: over.provider ?? { type: 'upcloud', zone: 'fi-hel1', plan: '1xCPU-1GB', usernameSecret: 'U', passwordSecret: 'P' },
    ssh: { user: 'root', port: 22, keyPath: '/k', hostKeys: { '[10.0.0.5]:2222': 'ssh-ed25519 AAAArecorded' }, ...over.ssh },
  } as DeployPlan;
}

describe('host keys a session pins', () => {
  it('the workflow\'s key first, then what the source machine recorded', () => {
    expect(hostKeyPin(plan(), vm({ hostKey: 'ssh-ed25519 AAAAworkflow' }))).toEqual({ hostKey: 'ssh-ed25519 AAAAworkflow' });
    expect(hostKeyPin(plan(), vm())).toEqual({ hostKey: 'ssh-ed25519 AAAArecorded', hostKeyOrigin: 'source' });
  });

  it('a VM this run made is a new machine; an existing host (provider ssh) is the one recorded', () => {
    expect(hostKeyPin(plan(), vm({ created: true }))).toEqual({});
    expect(hostKeyPin(plan({ provider: { type: 'ssh', hosts: [] } }), vm({ created: true }))).toMatchObject({ hostKeyOrigin: 'source' });
  });

  it('a host the source never recorded: trusted at first sight in a deploy, refused by a lifecycle command', () => {
    expect(hostKeyPin(plan(), vm({ port: 2223 }))).toEqual({});
    expect(() => hostKeyPin(plan({ ssh: { knownHostsOnly: true } }), vm({ port: 2223 }))).toThrow(
      expect.objectContaining({ type: 'SshHostKeyUnknown', message: expect.stringContaining('no SSH host key of [10.0.0.5]:2223') }),
    );
    // Plans made before keys travelled pin nothing and refuse nothing.
    expect(hostKeyPin(plan({ ssh: { hostKeys: undefined } }), vm())).toEqual({});
  });

  it('where the project is, its known_hosts file decides (the pool reads it)', () => {
    const here = mkdtempSync(join(tmpdir(), 'kamal-dev-source-'));
    try {
      expect(hostKeyPin(plan({ projectDir: here, identity: projectIdentity(here), ssh: { knownHostsOnly: true } }), vm({ port: 2223 }))).toEqual({});
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('the source\'s known_hosts becomes one key per host pattern, comments and blank lines left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-known-hosts-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, '# kamal-dev\n[127.0.0.1]:2201 ssh-ed25519 AAAAone\n\n10.0.0.9 ssh-rsa AAAAtwo\n[127.0.0.1]:2201 ssh-rsa AAAAlater\n');
    try {
      expect(recordedHostKeys(file)).toEqual({ '[127.0.0.1]:2201': 'ssh-ed25519 AAAAone', '10.0.0.9': 'ssh-rsa AAAAtwo' });
      expect(recordedHostKeys(join(dir, 'missing'))).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
