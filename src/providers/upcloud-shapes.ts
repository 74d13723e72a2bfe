import { KamalDevError } from '../errors';
import { notOursError } from './ownership';
import { LABELS, VmInstance } from './types';
import { fromUpcloudLabels, toUpcloudLabels, UpcloudLabel } from './upcloud-labels';

/** The parts of UpCloud API 1.3 bodies this provider reads. */
export type ServerState = 'started' | 'stopped' | 'maintenance' | 'error';

export interface ServerSummary {
  uuid: string;
  title: string;
  hostname: string;
  state: ServerState;
  labels?: { label: UpcloudLabel[] };
}

export interface ServerDetails extends ServerSummary {
  firewall?: 'on' | 'off';
  ip_addresses?: { ip_address: { access: string; family: string; address: string }[] };
}

export interface StorageSummary {
  uuid: string;
  title: string;
  type: string;
}

export interface PlanSummary {
  name: string;
  storage_size: number;
  storage_tier?: string;
}

export interface CreateServerInput {
  name: string;
  zone: string;
  plan: string;
  templateUuid: string;
  storageSizeGb: number;
  storageTier: string;
  sshPublicKey: string;
  labels: Record<string, string>;
  /** A script cloud-init runs on first boot. */
  userData?: string;
}

/** POST /server body: one disk cloned from the template, a public IPv4, root login by SSH key only. */
export function createServerBody(input: CreateServerInput): unknown {
  return {
    server: {
      zone: input.zone,
      title: input.name,
      hostname: input.name,
      plan: input.plan,
      // Ubuntu's cloud-init templates read the SSH key from the metadata service.
      metadata: 'yes',
      login_user: { username: 'root', create_password: 'no', ssh_keys: { ssh_key: [input.sshPublicKey.trim()] } },
      storage_devices: {
        storage_device: [{ action: 'clone', storage: input.templateUuid, title: `${input.name}-disk`, size: input.storageSizeGb, tier: input.storageTier }],
      },
      networking: {
        interfaces: {
          interface: [
            { type: 'public', ip_addresses: { ip_address: [{ family: 'IPv4' }] } },
            { type: 'utility', ip_addresses: { ip_address: [{ family: 'IPv4' }] } },
          ],
        },
      },
      labels: { label: toUpcloudLabels(input.labels) },
      ...(input.userData ? { user_data: input.userData } : {}),
    },
  };
}

/** The OS a public template holds, read from its title ("Ubuntu Server 24.04 LTS (Noble Numbat)", "Debian GNU/Linux 12 (Bookworm)"). */
export function templateOs(template: StorageSummary): { osId: string; codename: string } | undefined {
  const osId = /^ubuntu/i.test(template.title) ? 'ubuntu' : /^debian/i.test(template.title) ? 'debian' : undefined;
  if (!osId) return undefined;
  return { osId, codename: (/\((\w+)/.exec(template.title)?.[1] ?? '').toLowerCase() };
}

const UBUNTU_LTS = /^Ubuntu Server (\d+)\.(\d+) LTS/;

/** The newest Ubuntu LTS among the public templates, or the one `wanted` names by uuid or title. */
export function chooseTemplate(templates: StorageSummary[], wanted?: string): StorageSummary {
  if (wanted) {
    const found = templates.find((t) => t.uuid === wanted || t.title === wanted);
    if (!found) {
      throw new KamalDevError('config', `UpCloud template "${wanted}" was not found`, {
        key: 'provider.template',
        description: `Use the uuid or exact title of a template, e.g. one of: ${templates.slice(0, 8).map((t) => t.title).join(', ')}.`,
      });
    }
    return found;
  }
  const version = (t: StorageSummary) => {
    const m = UBUNTU_LTS.exec(t.title);
    return m ? Number(m[1]) * 100 + Number(m[2]) : -1;
  };
  const newest = [...templates].sort((a, b) => version(b) - version(a))[0];
  if (!newest || version(newest) < 0) {
    throw new KamalDevError('provider', 'UpCloud lists no Ubuntu Server LTS template', {
      description: 'Set provider.template to the uuid of a Debian or Ubuntu template.',
    });
  }
  return newest;
}

export function publicIpv4(server: ServerDetails): string | undefined {
  return server.ip_addresses?.ip_address.find((ip) => ip.access === 'public' && ip.family === 'IPv4')?.address;
}

/** sshd of UpCloud's templates, which kamal-dev logs in to as root. */
export const UPCLOUD_SSH_PORT = 22;

const STATUS: Record<ServerState, VmInstance['status']> = {
  started: 'running',
  stopped: 'stopped',
  maintenance: 'starting',
  error: 'unknown',
};

export function toVmInstance(server: ServerDetails): VmInstance {
  const ip = publicIpv4(server) ?? '';
  return {
    id: server.uuid,
    name: server.title,
    status: STATUS[server.state] ?? 'unknown',
    ssh: { host: ip, port: UPCLOUD_SSH_PORT, user: 'root' },
    ip,
    labels: fromUpcloudLabels(server.labels?.label ?? []),
  };
}

export function labelsOf(server: ServerSummary): Record<string, string> {
  return fromUpcloudLabels(server.labels?.label ?? []);
}

/** A server of the wanted title that another identity (or none) holds: named, with its uuid, and left alone. */
export function notOursOf(name: string, server: ServerSummary): KamalDevError {
  const labels = labelsOf(server);
  const error = notOursError(name, labels[LABELS.project] ? 'foreign' : 'unowned', labels);
  return new KamalDevError(error.kind, `${error.message} (UpCloud server ${server.uuid})`, { description: error.description });
}
