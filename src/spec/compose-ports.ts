import { configError } from '../errors';

type Service = Record<string, unknown>;

/** A published port as `docker compose config --format json` writes it (the long syntax). */
interface PortEntry {
  target: number;
  published?: string | number;
  host_ip?: string;
  protocol?: string;
  mode?: string;
}

export interface PublishedPort {
  service: string;
  target: number;
  published: string;
  /** The address it listens on on the VM: 127.0.0.1 (reached with `kamal-dev forward`) or every address. */
  hostIp: string;
  public: boolean;
}

/** A host port range the stack publishes beyond the VM's loopback: a provider with a firewall opens it. */
export interface OpenPort {
  /** SERVICE:PORT, as public_ports names it. */
  name: string;
  protocol: 'tcp' | 'udp';
  from: number;
  to: number;
}

const LOOPBACK = '127.0.0.1';
const EVERY_ADDRESS = new Set(['', '0.0.0.0', '::']);

/**
 * Private by default: a VM (an UpCloud server has a public IPv4) is not a laptop, so a compose port
 * published on every address (a Postgres with a development password) binds to 127.0.0.1 there and is
 * reached through `kamal-dev forward`. `public_ports: [SERVICE:PORT]` in config/dev.yml keeps one as
 * Compose wrote it. A port bound to one specific address is left as it is.
 */
export function privatePorts(services: Record<string, Service>, publicPorts: string[], configFile: string): Record<string, Service> {
  const unused = new Set(publicPorts);
  const out = Object.fromEntries(
    Object.entries(services).map(([name, service]) => {
      if (!Array.isArray(service.ports)) return [name, service];
      const ports = (service.ports as PortEntry[]).map((port) => {
        const key = `${name}:${port.target}`;
        if (publicPorts.includes(key)) {
          unused.delete(key);
          return port;
        }
        return EVERY_ADDRESS.has(port.host_ip ?? '') ? { ...port, host_ip: LOOPBACK } : port;
      });
      return [name, { ...service, ports }];
    }),
  );
  for (const entry of unused) {
    throw configError(`${entry} is not a port that the compose files publish`, {
      file: configFile,
      key: `public_ports[${publicPorts.indexOf(entry)}]`,
      description: 'Name a published port as SERVICE:CONTAINER_PORT, e.g. app:3000 for "3000:3000" under services.app.ports.',
    });
  }
  return out;
}

/** Every published port of a transformed stack and where it is reachable on the VM (for `plan`). */
export function publishedPorts(services: Record<string, Service>, publicPorts: string[]): PublishedPort[] {
  return Object.entries(services).flatMap(([name, service]) =>
    ((service.ports as PortEntry[] | undefined) ?? []).map((port) => ({
      service: name,
      target: port.target,
      published: String(port.published ?? ''),
      hostIp: port.host_ip ?? '0.0.0.0',
      public: publicPorts.includes(`${name}:${port.target}`),
    })),
  );
}

/**
 * The host ports of a transformed stack that listen beyond the VM's loopback (public_ports, or a
 * specific address), for a provider's firewall: a random host port (none published) has no number to open.
 */
export function publicHostPorts(services: Record<string, Service>): OpenPort[] {
  return Object.entries(services).flatMap(([name, service]) =>
    ((service.ports as PortEntry[] | undefined) ?? []).flatMap((port) => {
      const range = /^(\d+)(?:-(\d+))?$/.exec(String(port.published ?? ''));
      const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(port.host_ip ?? '');
      const protocol = port.protocol ?? 'tcp';
      if (!range || loopback || (protocol !== 'tcp' && protocol !== 'udp')) return [];
      return [{ name: `${name}:${port.target}`, protocol, from: Number(range[1]), to: Number(range[2] ?? range[1]) }];
    }),
  );
}
