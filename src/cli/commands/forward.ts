import type { Socket } from 'node:net';
import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { stackRef } from '../../remote/stackDir';
import { knownHostsFile } from '../../ssh/knownHosts';
import { composeContainerId } from '../../docker/compose';
import { configError, KamalDevError } from '../../errors';
import { sshKeyPath } from '../../ssh/keys';
import { SshPool } from '../../ssh/pool';
import type { SshSession } from '../../ssh/session';
import { contextOf } from '../context';
import { printerOf } from '../output';
import { listenFrom, portSpecs } from '../forward';
import { withWorkspaces } from '../workspaces';

/** VM i of a deployment (0-based) forwards its ports this much higher, so `--all` gives each VM a range. */
const PER_VM_OFFSET = 1000;

export async function action(deps: CliDeps, name: string | undefined, ports: string[], options: { all?: boolean }, command: Command): Promise<void> {
  const context = contextOf(command);
  if (!name && !options.all) throw configError('name a VM, or forward every VM with --all', { key: 'forward' });
  if (name && options.all) ports = [name, ...ports];
  await withWorkspaces(context.projectDir, async ({ plan, devcontainer, select }) => {
    const specs = portSpecs(plan, devcontainer, ports);
    if (specs.length === 0) throw configError('nothing to forward: devcontainer.json has no forwardPorts', { file: devcontainer.shown, key: 'forwardPorts', description: 'Name ports: kamal-dev forward NAME 3000 db:5432' });
    const vms = await select(options.all ? [] : [name!]);
    const stopped = vms.filter((vm) => vm.status && vm.status !== 'running');
    if (stopped.length) throw new KamalDevError('provider', `${stopped.map((v) => v.name).join(', ')} not running`, { description: `Start it first: kamal-dev start ${stopped.map((v) => v.name).join(' ')}` });
    const pool = new SshPool({ privateKeyPath: sshKeyPath(plan), knownHostsFile: knownHostsFile(plan) });
    const servers: { close(): void }[] = [];
    try {
      const mappings: { vm: string; service: string; port: number; local: number; label?: string; taken?: number }[] = [];
      for (const [i, vm] of vms.entries()) {
        const session = await pool.session(vm.ssh);
        for (const spec of specs) {
          const address = await containerAddress(session, plan, spec.service, vm.name);
          const preferred = spec.port + PER_VM_OFFSET * (options.all ? i : 0);
          const { server, port } = await listenFrom(preferred, (socket) => pipeTo(session, address, spec.port, socket));
          servers.push(server);
          mappings.push({ vm: vm.name, service: spec.service, port: spec.port, local: port, ...(spec.label ? { label: spec.label } : {}), ...(port !== preferred ? { taken: preferred } : {}) });
        }
      }
      const print = printerOf(command);
      print.result({ outcome: 'forwarding', forwards: mappings }, () =>
        mappings
          .map((m) => {
            const notes = [m.label, m.taken ? `${m.taken} was taken` : undefined].filter(Boolean).join('; ');
            return `localhost:${m.local} -> ${m.service}:${m.port} on ${m.vm}${notes ? ` (${notes})` : ''}`;
          })
          .join('\n'),
      );
      print.note('forwarding until Ctrl-C');
      await untilInterrupted();
    } finally {
      for (const server of servers) server.close();
      await pool.closeAll();
    }
  }, { deps, command });
}

/** The service container's address on the VM's compose network (reachable from the VM itself). */
async function containerAddress(session: SshSession, plan: Parameters<typeof stackRef>[0], service: string, vmName: string): Promise<string> {
  const id = (await session.run(composeContainerId(stackRef(plan), service), { root: true })).stdout.trim().split('\n')[0];
  if (!id) throw new KamalDevError('compose', `${vmName}: service ${service} has no running container`, { description: `kamal-dev status ${vmName}` });
  const inspect = await session.run(['docker', 'inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id], { root: true });
  // network_mode: host has no address of its own: the port is the VM's.
  return inspect.stdout.trim().split(/\s+/).filter(Boolean)[0] ?? '127.0.0.1';
}

function pipeTo(session: SshSession, host: string, port: number, socket: Socket): void {
  session.openTcp(host, port).then(
    (channel) => {
      socket.pipe(channel).pipe(socket);
      channel.on('error', () => socket.destroy());
      socket.on('error', () => channel.close());
    },
    () => socket.destroy(),
  );
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
