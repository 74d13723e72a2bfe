/**
 * A published port in Compose's long syntax. Private by default: with no address given it is
 * published on the VM's 127.0.0.1 only (reach it through SSH), like numeric forwardPorts.
 */
export function composePort(value: number | string): Record<string, unknown> {
  const [spec, protocol = 'tcp'] = String(value).split('/');
  const parts = spec.split(':');
  const target = Number(parts[parts.length - 1]);
  const published = parts.length >= 2 ? parts[parts.length - 2] : String(target);
  const hostIp = parts.length >= 3 ? parts.slice(0, -2).join(':') : '127.0.0.1';
  return { mode: 'ingress', host_ip: hostIp, target, published, protocol };
}

/** `appPort`: one port or a list, each a number or "host:container". */
export function appPorts(value: number | string | (number | string)[] | undefined): Record<string, unknown>[] {
  return value === undefined ? [] : [value].flat().map(composePort);
}
