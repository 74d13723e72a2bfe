import { parseMount, type ComposeVolume } from './devcontainer-mounts';
import { composePort } from './devcontainer-ports';

/** What `docker run` flags in `runArgs` become in the Compose service; `unmapped` names the rest. */
export interface RunArgsResult {
  service: Record<string, unknown>;
  volumes: ComposeVolume[];
  unmapped: { key: string; arg: string }[];
}

type Apply = (service: Record<string, unknown>, value: string, volumes: ComposeVolume[], key: string) => void;

const list = (field: string): Apply => (service, value) => void ((service[field] as string[] | undefined) ?? (service[field] = [])).push(value);
const scalar = (field: string, convert: (v: string) => unknown = (v) => v): Apply => (service, value) => void (service[field] = convert(value));
const mapping = (field: string): Apply => (service, value) => {
  const [name, ...rest] = value.split('=');
  ((service[field] as Record<string, string> | undefined) ?? (service[field] = {}) as Record<string, string>)[name] = rest.join('=');
};

/** Flags that take a value, by every spelling docker accepts. */
const WITH_VALUE: Partial<Record<string, Apply>> = {
  '--cap-add': list('cap_add'),
  '--cap-drop': list('cap_drop'),
  '--security-opt': list('security_opt'),
  '--env': mapping('environment'),
  '-e': mapping('environment'),
  '--label': mapping('labels'),
  '-l': mapping('labels'),
  '--sysctl': mapping('sysctls'),
  '--add-host': list('extra_hosts'),
  '--device': list('devices'),
  '--dns': list('dns'),
  '--tmpfs': list('tmpfs'),
  '--network': scalar('network_mode'),
  '--net': scalar('network_mode'),
  '--hostname': scalar('hostname'),
  '-h': scalar('hostname'),
  '--user': scalar('user'),
  '-u': scalar('user'),
  '--workdir': scalar('working_dir'),
  '-w': scalar('working_dir'),
  '--shm-size': scalar('shm_size'),
  '--memory': scalar('mem_limit'),
  '-m': scalar('mem_limit'),
  '--cpus': scalar('cpus', Number),
  '--ipc': scalar('ipc'),
  '--pid': scalar('pid'),
  '--userns': scalar('userns_mode'),
  '--entrypoint': scalar('entrypoint', (v) => [v]),
  '--ulimit': (service, value) => {
    const [name, limits = ''] = value.split('=');
    const [soft, hard] = limits.split(':').map(Number);
    ((service.ulimits as Record<string, unknown> | undefined) ?? (service.ulimits = {}) as Record<string, unknown>)[name] = hard === undefined ? soft : { soft, hard };
  },
  '--publish': (service, value) => void ((service.ports as unknown[] | undefined) ?? (service.ports = [])).push(composePort(value)),
  '-p': (service, value) => void ((service.ports as unknown[] | undefined) ?? (service.ports = [])).push(composePort(value)),
  '--mount': (_service, value, volumes, key) => void volumes.push(parseMount(value, { file: '', key })),
  '--volume': (_service, value, volumes) => void volumes.push(shortVolume(value)),
  '-v': (_service, value, volumes) => void volumes.push(shortVolume(value)),
};

const FLAGS: Record<string, string> = { '--privileged': 'privileged', '--init': 'init', '--read-only': 'read_only', '--tty': 'tty', '-t': 'tty', '--interactive': 'stdin_open', '-i': 'stdin_open' };

/**
 * `runArgs` as the reference CLI passes them to `docker run`, mapped to Compose service fields.
 * Flags without a Compose field (`--name`, `--gpus`, `--rm`, ...) are named in `unmapped`.
 */
export function mapRunArgs(args: string[]): RunArgsResult {
  const result: RunArgsResult = { service: {}, volumes: [], unmapped: [] };
  for (let i = 0; i < args.length; i++) {
    const key = `runArgs[${i}]`;
    const [flag, inline] = splitFlag(args[i]);
    if (FLAGS[flag] && inline === undefined) {
      result.service[FLAGS[flag]] = true;
      continue;
    }
    const apply = WITH_VALUE[flag];
    const value = inline ?? (apply ? args[++i] : undefined);
    if (!apply || value === undefined) {
      // An unknown flag's value goes with it into the same warning.
      const next = args[i + 1];
      result.unmapped.push({ key, arg: !apply && inline === undefined && next !== undefined && !next.startsWith('-') ? `${args[i]} ${args[++i]}` : args[i] ?? flag });
      continue;
    }
    apply(result.service, value, result.volumes, key);
  }
  return result;
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

/** `-v SOURCE:TARGET[:ro]`: a path source is a bind mount, a name a volume. */
function shortVolume(value: string): ComposeVolume {
  const [source, target, mode] = value.split(':');
  if (target === undefined) return { type: 'volume', target: source };
  const type = source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume';
  return { type, source, target, ...(mode?.split(',').includes('ro') ? { read_only: true } : {}), ...(type === 'bind' ? { bind: { create_host_path: true } } : {}) };
}
