/**
 * Firewall rules as UpCloud API 1.3 checks them (PUT /server/{uuid}/firewall_rule replaces the list,
 * GET lists it with positions): the fields and values the API documents, ports only for tcp/udp,
 * a family whenever a protocol is set, at most 1000 rules. What it refuses, the real API refuses.
 */
export type StoredRule = Record<string, string>;

const FIELDS = new Set([
  'direction', 'action', 'position', 'family', 'protocol', 'icmp_type', 'comment',
  'source_address_start', 'source_address_end', 'source_port_start', 'source_port_end',
  'destination_address_start', 'destination_address_end', 'destination_port_start', 'destination_port_end',
]);
const MAX_RULES = 1000;

export function parseFirewallRules(body: unknown): { rules: StoredRule[] } | { error: string } {
  const list = (body as { firewall_rules?: { firewall_rule?: unknown } })?.firewall_rules?.firewall_rule;
  if (!Array.isArray(list)) return { error: 'expected {"firewall_rules": {"firewall_rule": [...]}}' };
  if (list.length > MAX_RULES) return { error: `at most ${MAX_RULES} rules` };
  const rules: StoredRule[] = [];
  for (const [i, rule] of list.entries()) {
    const problem = ruleProblem(rule as Record<string, unknown>);
    if (problem) return { error: `rule ${i + 1}: ${problem}` };
    rules.push({ ...(rule as StoredRule), position: String(i + 1) });
  }
  return { rules };
}

function ruleProblem(rule: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(rule).filter((key) => !FIELDS.has(key));
  if (unknown.length) return `unknown field ${unknown[0]}`;
  const bad = Object.entries(rule).find(([, value]) => typeof value !== 'string');
  if (bad) return `${bad[0]} must be a string`;
  if (!['in', 'out'].includes(rule.direction as string)) return 'direction must be in or out';
  if (!['accept', 'reject', 'drop'].includes(rule.action as string)) return 'action must be accept, reject or drop';
  if (rule.protocol !== undefined && !['tcp', 'udp', 'icmp'].includes(rule.protocol as string)) return 'protocol must be tcp, udp or icmp';
  if (rule.protocol !== undefined && !['IPv4', 'IPv6'].includes(rule.family as string)) return 'family (IPv4 or IPv6) is required with a protocol';
  for (const side of ['source', 'destination']) {
    const [start, end] = [rule[`${side}_port_start`], rule[`${side}_port_end`]] as (string | undefined)[];
    if (start === undefined && end === undefined) continue;
    if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return `${side} ports need protocol tcp or udp`;
    const valid = (p?: string) => p !== undefined && /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
    if (!valid(start) || !valid(end) || Number(start) > Number(end)) return `${side}_port_start..end must be 1-65535, start <= end`;
  }
  return undefined;
}
