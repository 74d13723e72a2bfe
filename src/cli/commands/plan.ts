import type { Command } from 'commander';
import { remoteStackDir } from '../../spec/compose-mounts';
import type { LifecycleStep } from '../../spec/devcontainer-vars';
import { lifecycleSchedule } from '../../spec/lifecycle';
import { publishedPorts } from '../../spec/compose-ports';
import { displayPath } from '../../spec/paths';
import type { LifecyclePlan } from '../../spec/plan';
import { ResolvedSpec, resolveSpec } from '../../spec/resolve';
import type { CliDeps } from '../deps';
import { printer, specWarningLines } from '../output';
import { contextOf } from '../context';

export interface PlanOptions {
  projectDir: string;
  json?: boolean;
  count?: number;
  tag?: string;
  /** --from: devcontainer.json or its folder. */
  from?: string;
  env?: NodeJS.ProcessEnv;
}

export async function action(deps: CliDeps, options: { count?: number; tag?: string; from?: string }, command: Command): Promise<void> {
  const context = contextOf(command);
  await runPlan({ ...options, projectDir: context.projectDir, json: context.json }, deps.stdout);
}

export async function runPlan(options: PlanOptions, stdout?: NodeJS.WritableStream): Promise<void> {
  const spec = await resolveSpec({ projectDir: options.projectDir, count: options.count, tag: options.tag, devcontainerPath: options.from, env: options.env });
  printer(!!options.json, { stdout }).result({ outcome: 'ok', ...planJson(spec) }, () => planSummary(spec));
}

/** The `plan --json` document. Keys and their order are stable; secret values never appear (only names). */
export function planJson({ plan, config, composeFiles, storedEnvironment, features, warnings }: ResolvedSpec): Record<string, unknown> {
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
    lifecycleSecrets: plan.stack.lifecycle?.secrets ?? [],
    storedEnvironment,
    ports: portsOf(plan, config.publicPorts),
    vms: plan.vms,
    provider: plan.provider,
    onFailure: plan.onFailure,
    initializeCommand: plan.stack.initialize ?? [],
    lifecycle: plan.stack.lifecycle ?? null,
    features: features.map((f) => ({ ref: f.ref, id: f.manifest.id, version: f.manifest.version ?? null, options: f.options, digest: f.digest })),
    warnings,
  };
}

export function planSummary(spec: ResolvedSpec): string {
  const { plan, config, devcontainer, composeFiles, features } = spec;
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
    ...(plan.stack.lifecycle?.secrets?.length ? [`  cmd secrets    ${plan.stack.lifecycle.secrets.join(', ')} (remoteEnv and lifecycle commands, mode-600 env file while they run)`] : []),
    ...portsOf(plan, config.publicPorts).map((p) =>
      p.public
        ? `  port           ${p.service}:${p.target} on ${p.hostIp}:${p.published} of each VM  (warning: public_ports opens it to every network the VM is on)`
        : `  port           ${p.service}:${p.target} on ${p.hostIp}:${p.published} of each VM (private: kamal-dev forward NAME ${p.service}:${p.target})`,
    ),
    ...plan.stack.dropped.map((d) => `  not copied     ${d.source}: ${d.reason}`),
    ...(plan.stack.initialize ? [`  initialize     would run initializeCommand on this machine before the build (plan runs nothing): ${stepsText(plan.stack.initialize)}`] : []),
    ...lifecycleLines(plan.stack.lifecycle),
    ...features.map((f, i) => `  ${i === 0 ? 'features' : '        '}       ${i + 1}. ${f.ref} (${f.manifest.id}${f.manifest.version ? ` ${f.manifest.version}` : ''})${Object.keys(f.options).length ? ` ${Object.entries(f.options).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`),
    ...specWarningLines(spec),
  ];
  return lines.join('\n') + '\n';
}


function lifecycleLines(lifecycle: LifecyclePlan | undefined): string[] {
  if (!lifecycle) return [];
  const lines = lifecycleSchedule(lifecycle).map((h) => `  ${h.when === 'once' ? 'once per container' : 'on each start    '} ${h.hook}: ${stepsText(h.groups.flat())}${h.blocking ? '' : ' (after waitFor: a failure leaves the VM deployed)'}`);
  if (lifecycle.postAttach) lines.push(`  on attach      postAttachCommand: ${stepsText(lifecycle.postAttach)} (runs when \`kamal-dev ssh\` opens a shell, not at deploy)`);
  return lines;
}

function stepsText(steps: LifecycleStep[]): string {
  return steps.map((s) => `${s.feature ? `[${s.feature}] ` : ''}${s.name ? `${s.name}: ` : ''}${'shell' in s ? s.shell : JSON.stringify(s.argv)}`).join(' | ');
}

function portsOf(plan: ResolvedSpec['plan'], publicPorts: string[]) {
  return publishedPorts((plan.stack.compose.services ?? {}) as Record<string, Record<string, unknown>>, publicPorts);
}
