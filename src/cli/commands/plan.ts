import type { Command } from 'commander';
import { remoteStackDir } from '../../spec/compose-mounts';
import { publishedPorts } from '../../spec/compose-ports';
import { displayPath } from '../../spec/paths';
import { ResolvedSpec, resolveSpec } from '../../spec/resolve';
import { contextOf, parseCount } from '../context';

export interface PlanOptions {
  projectDir: string;
  json?: boolean;
  count?: number;
  tag?: string;
  /** --from: devcontainer.json or its folder. */
  from?: string;
  env?: NodeJS.ProcessEnv;
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('show what a deploy would build, push and run (no side effects)')
    .option('--count <n>', 'number of VMs (default: vms.count in config/dev.yml, else 1)', parseCount)
    .option('--tag <tag>', 'image tag (default: git short sha, or a UTC timestamp outside git)')
    .option('--from <path>', 'devcontainer.json to use (default: .devcontainer/devcontainer.json or .devcontainer.json)')
    .action(async (options: { count?: number; tag?: string; from?: string }, command: Command) => {
      const context = contextOf(command);
      await runPlan({ ...options, projectDir: context.projectDir, json: context.json });
    });
}

export async function runPlan(options: PlanOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const spec = await resolveSpec({ projectDir: options.projectDir, count: options.count, tag: options.tag, devcontainerPath: options.from, env: options.env });
  stdout.write(options.json ? JSON.stringify(planJson(spec), null, 2) + '\n' : planSummary(spec));
}

/** The `plan --json` document. Keys and their order are stable; secret values never appear (only names). */
export function planJson({ plan, config, composeFiles }: ResolvedSpec): Record<string, unknown> {
  const primary = plan.builds.find((b) => b.service === plan.stack.primaryService);
  const primaryImage = (plan.stack.compose.services as Record<string, { image?: string }>)[plan.stack.primaryService]?.image;
  return {
    kind: plan.kind,
    service: plan.service,
    composeFiles,
    build: Object.fromEntries(
      plan.builds.map((b) => [b.service, { context: b.context, dockerfile: b.dockerfile, args: b.args, target: b.target ?? null, secrets: b.secrets, platform: b.platform ?? null, cacheFrom: b.cacheFrom, image: b.image }]),
    ),
    image: primary?.image ?? primaryImage ?? null,
    compose: plan.stack.compose,
    sync: {
      stackDir: remoteStackDir(plan.stack.projectName),
      workspace: plan.stack.workspace ?? null,
      files: plan.stack.files,
      dropped: plan.stack.dropped,
    },
    projectName: plan.stack.projectName,
    tag: plan.tag,
    registry: plan.registry,
    secrets: plan.stack.secrets,
    ports: portsOf(plan, config.publicPorts),
    vms: plan.vms,
    provider: plan.provider,
    onFailure: plan.onFailure,
  };
}

export function planSummary({ plan, config, devcontainer, composeFiles }: ResolvedSpec): string {
  const show = (file: string) => displayPath(plan.projectDir, file);
  const stackDir = remoteStackDir(plan.stack.projectName);
  const services = Object.keys((plan.stack.compose.services as object) ?? {});
  const lines = [
    `Plan for ${plan.service} (${plan.kind} devcontainer: ${devcontainer.shown})`,
    ...(composeFiles.length ? [`  compose files  ${composeFiles.map(show).join(', ')}`] : []),
    `  registry       ${plan.registry.server}${plan.registry.local ? ' (local registry, no credentials)' : ` (credentials: ${plan.registry.usernameSecret} / ${plan.registry.passwordSecret})`}`,
    ...plan.builds.map((b, i) => `  ${i === 0 ? 'images' : '      '}         ${b.service}: ${b.image}  (from ${show(b.dockerfile)}${b.secrets.length ? `, build secrets ${b.secrets.join(', ')}` : ''})`),
    `  services       ${services.join(', ')} (primary: ${plan.stack.primaryService}, compose project ${plan.stack.projectName})`,
    `  VMs            ${plan.vms.map((v) => v.name).join(', ')} (provider ${plan.provider.type}, on failure: ${plan.onFailure})`,
    `  on each VM     ${stackDir}/compose.yaml`,
    ...(plan.stack.workspace ? [`  workspace      ${plan.stack.workspace.source} -> ${stackDir}/${plan.stack.workspace.target} (without ${plan.stack.workspace.exclude.join(', ')})`] : []),
    ...plan.stack.files.map((f) => `  file           ${show(f.source)} -> ${stackDir}/${f.target}`),
    ...(plan.stack.secrets.length ? [`  run secrets    ${plan.stack.secrets.join(', ')} (mode-600 env file on each VM)`] : []),
    ...portsOf(plan, config.publicPorts).map((p) =>
      p.public
        ? `  port           ${p.service}:${p.target} on ${p.hostIp}:${p.published} of each VM  (warning: public_ports opens it to every network the VM is on)`
        : `  port           ${p.service}:${p.target} on ${p.hostIp}:${p.published} of each VM (private: kamal-dev forward NAME ${p.service}:${p.target})`,
    ),
    ...plan.stack.dropped.map((d) => `  not copied     ${d.source}: ${d.reason}`),
  ];
  return lines.join('\n') + '\n';
}

function portsOf(plan: ResolvedSpec['plan'], publicPorts: string[]) {
  return publishedPorts((plan.stack.compose.services ?? {}) as Record<string, Record<string, unknown>>, publicPorts);
}
