import { createServer, Server } from 'node:net';
import { configError } from '../errors';
import type { Devcontainer } from '../spec/devcontainer';
import type { DeployPlan } from '../spec/plan';

export interface PortSpec {
  service: string;
  port: number;
  label?: string;
}

/**
 * What to forward: the ports named on the command line, else devcontainer.json's forwardPorts. A
 * number is a port of the primary service, `service:port` one of that service.
 */
export function portSpecs(plan: DeployPlan, devcontainer: Devcontainer, args: string[]): PortSpec[] {
  const wanted = args.length > 0 ? args : devcontainer.forwardPorts.map(String);
  const services = Object.keys((plan.stack.compose.services ?? {}) as Record<string, unknown>);
  return wanted.map((entry) => {
    const match = /^(?:([A-Za-z0-9_.-]+):)?(\d+)$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw configError(`expected PORT or SERVICE:PORT, got "${entry}"`, { key: args.length ? 'forward' : 'forwardPorts', file: args.length ? undefined : devcontainer.shown });
    const service = match[1] ?? plan.stack.primaryService;
    if (!services.includes(service)) throw configError(`no service named ${service} in the stack (${entry})`, { key: args.length ? 'forward' : 'forwardPorts', description: `Services: ${services.join(', ')}.` });
    const label = devcontainer.portLabels[entry] ?? (service === plan.stack.primaryService ? devcontainer.portLabels[String(port)] : undefined);
    return { service, port, ...(label ? { label } : {}) };
  });
}

/** Listens on 127.0.0.1 at `preferred`, else the next port up that is free. */
export async function listenFrom(preferred: number, onConnection: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  for (let port = preferred; port <= 65535; port++) {
    const server = createServer(onConnection);
    const ok = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(false) : reject(error)));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { server, port };
  }
  throw new Error(`no free local port from ${preferred} up`);
}
