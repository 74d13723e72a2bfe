import type { OpenPort } from '../spec/compose-ports';
import type { UpcloudApi } from './upcloud-api';
import type { ServerDetails } from './upcloud-shapes';

/** A rule as UpCloud API 1.3 takes it (`/server/{uuid}/firewall_rule`): ports and positions are strings. */
export interface FirewallRule {
  direction: 'in' | 'out';
  action: 'accept' | 'drop';
  family?: 'IPv4' | 'IPv6';
  protocol?: 'tcp' | 'udp' | 'icmp';
  source_port_start?: string;
  source_port_end?: string;
  destination_port_start?: string;
  destination_port_end?: string;
  comment: string;
}

/** Every rule kamal-dev writes says so: a server whose rules all do is kamal-dev's to rewrite. */
const MARK = 'kamal-dev:';
/** Linux's default ip_local_port_range, where the replies to the server's own connections arrive. */
const EPHEMERAL = { from: 32768, to: 60999 };

/**
 * Inbound: SSH, the ports the config opens (`public_ports`), and what a stateless firewall must let
 * back in for the server to work (UpCloud's firewall keeps no connection state): replies to the
 * server's own connections (apt, image pulls, DNS) on the ephemeral ports, DHCP, ICMP (path MTU);
 * then drop everything else. Outbound stays open.
 */
export function firewallRules(sshPort: number, open: OpenPort[]): FirewallRule[] {
  const accept = (protocol: 'tcp' | 'udp', from: number, to: number, comment: string): FirewallRule => ({
    direction: 'in',
    action: 'accept',
    family: 'IPv4',
    protocol,
    destination_port_start: String(from),
    destination_port_end: String(to),
    comment: `${MARK} ${comment}`,
  });
  return [
    accept('tcp', sshPort, sshPort, 'SSH'),
    ...open.map((port) => accept(port.protocol, port.from, port.to, `public_ports ${port.name}`)),
    accept('tcp', EPHEMERAL.from, EPHEMERAL.to, "replies to the server's own connections"),
    accept('udp', EPHEMERAL.from, EPHEMERAL.to, "replies to the server's own connections (DNS)"),
    { ...accept('udp', 68, 68, 'DHCP'), source_port_start: '67', source_port_end: '67' },
    { direction: 'in', action: 'accept', family: 'IPv4', protocol: 'icmp', comment: `${MARK} ICMP` },
    { direction: 'in', action: 'drop', comment: `${MARK} everything else` },
  ];
}

/**
 * Puts the rules on a server and turns its firewall on. A server with rules of someone else's (an
 * adopted one) keeps them: replacing a person's firewall could lock them out of what they run there.
 */
export async function applyFirewall(api: UpcloudApi, server: ServerDetails, rules: FirewallRule[], signal?: AbortSignal): Promise<'applied' | 'kept'> {
  const path = `/server/${server.uuid}/firewall_rule`;
  const current = (await api.request<{ firewall_rules?: { firewall_rule?: { comment?: string }[] } }>('GET', path, undefined, signal)).firewall_rules?.firewall_rule ?? [];
  if (current.some((rule) => !rule.comment?.startsWith(MARK))) return 'kept';
  // PUT replaces the whole list, in order; a repeat of the same rules changes nothing.
  await api.request('PUT', path, { firewall_rules: { firewall_rule: rules } }, signal);
  if (server.firewall !== 'on') await api.request('PUT', `/server/${server.uuid}`, { server: { firewall: 'on' } }, signal);
  return 'applied';
}
