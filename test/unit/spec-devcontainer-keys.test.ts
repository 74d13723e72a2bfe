import { unappliedKeys, warningLine } from '../../src/spec/devcontainer-keys';

const FILE = '.devcontainer/devcontainer.json';
const keysOf = (data: Record<string, unknown>, kind: 'image' | 'dockerfile' | 'compose' = 'image') => unappliedKeys(data, kind, FILE).map((w) => w.key);

describe('unappliedKeys', () => {
  it('is quiet for the keys that have no meaning on a VM and for the keys it applies', () => {
    const data = {
      $schema: 'x',
      name: 'App',
      customizations: { vscode: {} },
      shutdownAction: 'stopCompose',
      updateRemoteUserUID: true,
      image: 'debian',
      workspaceFolder: '/w',
      containerEnv: { A: '1' },
      remoteEnv: { B: null },
      remoteUser: 'dev',
      forwardPorts: [3000],
      postCreateCommand: 'x',
      postStartCommand: ['y'],
      overrideCommand: true,
    };
    expect(unappliedKeys(data, 'image', FILE)).toEqual([]);
  });

  it('names every other key once, in the order of the file', () => {
    expect(keysOf({ portsAttributes: {}, image: 'debian', postAttachCommand: 'x', userEnvProbe: 'loginShell' })).toEqual(['portsAttributes', 'userEnvProbe']);
  });

  it('calls a key that is not in the spec unknown', () => {
    expect(unappliedKeys({ image: 'debian', postCreateComand: 'x' }, 'image', FILE)).toEqual([{ file: FILE, key: 'postCreateComand', message: 'unknown key, not applied' }]);
  });

  it('names build keys it does not apply with their path', () => {
    expect(keysOf({ build: { dockerfile: 'D', options: ['--network=host'] } }, 'dockerfile')).toEqual(['build.options']);
  });

  it('warns about forwardPorts of a compose devcontainer, and about "service:port" entries elsewhere', () => {
    expect(keysOf({ forwardPorts: [3000] }, 'compose')).toEqual(['forwardPorts']);
    expect(keysOf({ forwardPorts: [3000, 'db:5432'] }, 'image')).toEqual(['forwardPorts[1]']);
  });

  it('names values that use variables only a running container has, once per value', () => {
    const warnings = unappliedKeys({ containerEnv: { P: '${containerEnv:PATH}:/x', Q: 'plain' }, remoteEnv: { ID: '${devcontainerId}' }, runArgs: ['${devcontainerId}'] }, 'image', FILE);
    expect(warnings.map((w) => w.key)).toEqual(['containerEnv.P', 'remoteEnv.ID', 'runArgs[0]']);
  });

  it('applies the container keys to every kind, and warns about runArgs, workspaceMount and appPort only for Compose', () => {
    const data = { mounts: [], privileged: true, capAdd: ['SYS_PTRACE'], securityOpt: ['seccomp=unconfined'], init: true, containerUser: 'dev', runArgs: [], workspaceMount: 'x', appPort: 3000 };
    expect(keysOf(data, 'dockerfile')).toEqual([]);
    expect(keysOf(data, 'compose')).toEqual(['runArgs', 'workspaceMount', 'appPort']);
  });

  it('prints one line naming the file and the key', () => {
    expect(warningLine({ file: FILE, key: 'runArgs', message: 'not applied' })).toBe('warning: .devcontainer/devcontainer.json: runArgs: not applied');
  });
});
