// `npm run bench`: kamal-dev deploy against the same steps as a plain shell pipeline, in the lab, all
// in one run so the ratios hold on a noisy machine. Prints `name: value` figures; asserts nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringUp, tearDown } from '../test/lab/lab';
import { allParts } from '../test/lab/parts';
import { sh } from '../test/lab/exec';
import type { Client } from '@temporalio/client';
import { temporalClient } from './lib/history';
import { BENCH_LABEL, KamalDevRun, kamalDevDeploy, PipelineRun, removeKamalDevDeployment, removePipelineLeftovers, runPipeline } from './lib/measure';
import { DEPLOY_ENV, pipelineWorkDir, railsProject, ROOT, SECRETS } from './lib/project';
import { kamalDevBreakdown, pipelineBreakdown } from './lib/report';
import { deploySpans, overlapOf, timelineLines } from './lib/timeline';
import { cliStartSeconds } from './lib/startup';
import { measureTunnels } from './lib/tunnel';
import { seedFigures } from './lib/seed';

/** How many times each kamal-dev / pipeline pair runs (BENCH_REPEAT, default 2). */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
/**
 * Which figures to measure (BENCH_ONLY, comma-separated; default all): `n1` (pipeline and kamal-dev
 * for 1 VM, cold and redeploy), `n2`, `n4` (kamal-dev for 4 VMs and 4 pipelines at once), `tunnel`.
 */
const ALL_PARTS = ['n1', 'n2', 'n4', 'tunnel'];
const PARTS = new Set(process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((part) => part.trim()) : ALL_PARTS);
const NEEDED = ['docker', 'baseImage', 'localRegistry', 'postgres', 'temporal', 'vmImage'];
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const figure = (name: string, value: number, digits = 2) => process.stdout.write(`${name}: ${value.toFixed(digits)}\n`);

async function main(): Promise<void> {
  const unknown = [...PARTS].filter((part) => !ALL_PARTS.includes(part));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown part(s) ${unknown.join(', ')} (known: ${ALL_PARTS.join(', ')})`);
  const { state, started } = await bringUp(allParts, log);
  try {
    const missing = NEEDED.filter((part) => !state[part]?.ok);
    const vm = state.vmImage;
    if (missing.length > 0 || !vm?.ok) throw new Error(`lab part(s) not up: ${missing.join(', ')} (see npm run lab -- status)`);
    if (PARTS.has('n1') || PARTS.has('n2') || PARTS.has('n4')) await measure(String(vm.info.image));
    if (PARTS.has('tunnel')) await tunnelFigures();
  } finally {
    await tearDown(started, log);
  }
}

/** tunnel_mb_s (kamal-dev's default path), ssh_r_mb_s (plain `ssh -R`), ssh2_forward_mb_s (the fallback): one image, one VM. */
async function tunnelFigures(): Promise<void> {
  const tunnels = await measureTunnels(`kdt${Date.now().toString(36).slice(-5)}`, REPEAT, log);
  figure('tunnel_mb_s', tunnels.tunnelMbS, 1);
  figure('ssh_r_mb_s', tunnels.sshRMbS, 1);
  figure('ssh2_forward_mb_s', tunnels.ssh2MbS, 1);
  figure('tunnel_vs_ssh_r', tunnels.tunnelMbS / tunnels.sshRMbS);
}

interface Pipelines {
  /** Wall time of all of them, run in parallel. */
  seconds: number;
  runs: PipelineRun[];
}

async function measure(vmImage: string): Promise<void> {
  const run = `kdb${Date.now().toString(36).slice(-5)}`;
  const logs = mkdtempSync(join(tmpdir(), `kamal-dev-bench-${run}-`));
  const logFile = join(logs, 'kamal-dev.log');
  log(`run ${run}: logs in ${logs}`);
  log('npm run build');
  await sh(['npm', '--prefix', ROOT, 'run', 'build'], { timeoutMs: 300_000 });

  // Every build measured below then finds the same warm layer cache (the Dockerfile's apt step), and
  // every push the same layers in the registry: each builds and pushes its own app layer only.
  log('warming the build cache and the registry');
  const warm = await railsProject(`${run}-warm`);
  const warmImage = `localhost:5555/kamal-dev-bench/${run}-warm:latest`;
  await sh(['docker', 'buildx', 'build', '--progress=quiet', '-f', join(warm, '.devcontainer', 'Dockerfile'), '--build-arg', `BASE_IMAGE=${DEPLOY_ENV.BASE_IMAGE}`,
    '--secret', 'id=RAILS_MASTER_KEY,env=RAILS_MASTER_KEY', '--label', BENCH_LABEL, '-t', warmImage, '--load', warm],
    { env: { ...process.env, RAILS_MASTER_KEY: SECRETS.RAILS_MASTER_KEY }, timeoutMs: 900_000 });
  await sh(['docker', 'push', '--quiet', warmImage], { timeoutMs: 300_000 });

  const pipeline = async (ids: string[]): Promise<Pipelines> => {
    const prepared = await Promise.all(ids.map(async (id) => {
      const image = `localhost:5555/kamal-dev-bench/${id}:latest`;
      return { id, image, project: await railsProject(id), work: await pipelineWorkDir(image) };
    }));
    const t0 = performance.now();
    try {
      const runs = await Promise.all(prepared.map((p) => runPipeline(p.id, p.project, p.work, p.image, vmImage, logFile)));
      const seconds = (performance.now() - t0) / 1000;
      log(`  ${seconds.toFixed(1)}s`);
      return { seconds, runs };
    } finally {
      await removePipelineLeftovers();
    }
  };
  const kamalDev = async (service: string, counts: number[], rss = false): Promise<KamalDevRun[]> => {
    const project = await railsProject(service);
    try {
      const runs: KamalDevRun[] = [];
      for (const count of counts) {
        log(`kamal-dev deploy --count ${count} (${service}${runs.length > 0 ? ', again' : ''})`);
        runs.push(await kamalDevDeploy(project, count, logFile, rss));
        log(`  ${runs.at(-1)!.seconds.toFixed(1)}s`);
      }
      return runs;
    } finally {
      await removeKamalDevDeployment(project, service, logFile);
    }
  };

  // Each pair alternates kamal-dev with the pipeline; the fastest of the repeats counts, since the
  // noise of a shared machine only ever adds time. Every run is printed.
  const pairs = { p1: [] as Pipelines[], kd1: [] as KamalDevRun[], redeploy: [] as KamalDevRun[], kd4: [] as KamalDevRun[], p4: [] as Pipelines[] };
  for (let i = 1; i <= REPEAT && PARTS.has('n1'); i++) {
    log(`pipeline, 1 VM (${i}/${REPEAT})`);
    pairs.p1.push(await pipeline([`${run}-p1-${i}`]));
    const [cold, again] = await kamalDev(`${run}-n1-${i}`, [1, 1]);
    pairs.kd1.push(cold);
    pairs.redeploy.push(again);
  }
  const [kd2] = PARTS.has('n2') ? await kamalDev(`${run}-n2`, [2]) : [];
  for (let i = 1; i <= REPEAT && PARTS.has('n4'); i++) {
    pairs.kd4.push((await kamalDev(`${run}-n4-${i}`, [4], true))[0]);
    log(`4 pipelines in parallel (${i}/${REPEAT})`);
    pairs.p4.push(await pipeline([1, 2, 3, 4].map((n) => `${run}-p4-${i}-${n}`)));
  }
  const fastest = <T extends { seconds: number }>(runs: T[]): T | undefined => (runs.length ? runs.reduce((a, b) => (b.seconds < a.seconds ? b : a)) : undefined);
  const [p1, kd1, redeploy, kd4, p4] = [fastest(pairs.p1), fastest(pairs.kd1), fastest(pairs.redeploy), fastest(pairs.kd4), fastest(pairs.p4)];
  const runs = (name: string, list: { seconds: number }[]) => list.length && process.stdout.write(`${name}: ${list.map((r) => r.seconds.toFixed(1)).join(' ')}\n`);

  if (kd1 && redeploy && p1) {
    figure('kamal_dev_n1_s', kd1.seconds, 1);
    figure('kamal_dev_redeploy_n1_s', redeploy.seconds, 1);
    figure('pipeline_n1_s', p1.seconds, 1);
    figure('overhead_n1', kd1.seconds / p1.seconds);
    figure('redeploy_vs_cold', redeploy.seconds / kd1.seconds);
  }
  if (kd2) figure('kamal_dev_n2_s', kd2.seconds, 1);
  if (kd4 && p4) {
    figure('kamal_dev_n4_s', kd4.seconds, 1);
    figure('pipeline_4_parallel_s', p4.seconds, 1);
    figure('fanout_vs_parallel_pipelines', kd4.seconds / p4.seconds);
    if (kd1) figure('fanout_vs_sequential', kd4.seconds / (4 * kd1.seconds));
    if (p1) figure('parallel_pipelines_vs_one', p4.seconds / p1.seconds);
    figure('worker_peak_rss_mb', Math.max(...pairs.kd4.map((r) => r.rss!.processMb)), 0);
    figure('worker_tree_peak_rss_mb', Math.max(...pairs.kd4.map((r) => r.rss!.treeMb)), 0);
  }
  runs('runs_kamal_dev_n1_s', pairs.kd1);
  runs('runs_kamal_dev_redeploy_n1_s', pairs.redeploy);
  runs('runs_pipeline_n1_s', pairs.p1);
  runs('runs_kamal_dev_n4_s', pairs.kd4);
  runs('runs_pipeline_4_parallel_s', pairs.p4);

  const temporal = await temporalClient(DEPLOY_ENV.TEMPORAL_ADDRESS);
  try {
    const lines: string[] = [];
    if (kd1 && redeploy && p1) lines.push(...(await n1Figures(temporal.client, kd1, redeploy, p1)));
    if (kd2) lines.push(...(await kamalDevBreakdown(temporal.client, 'kamal-dev N=2', kd2)));
    if (kd4 && p4) lines.push(...(await n4Figures(temporal.client, kd4, p4)));
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    await temporal.close();
  }
}

/** Overlap, seed and CLI figures of the N=1 deploys; returns where their time went, with the timelines of the cold deploy and the redeploy. */
async function n1Figures(client: Client, kd1: KamalDevRun, redeploy: KamalDevRun, p1: Pipelines): Promise<string[]> {
  // How much of each VM's preparation the build and push hid (src/workflows/images.ts).
  const spans = await deploySpans(client, kd1);
  const overlap = overlapOf(spans);
  figure('overlap_n1_s', overlap.seconds, 1);
  figure('overlap_n1', overlap.fraction);
  figure('vm_waited_for_push_n1_s', overlap.waitedS, 1);
  // The workspace travels as an image in the registry (src/images/seed.ts), not as a tar over SSH.
  const [seed, seedAgain] = [await seedFigures(client, kd1), await seedFigures(client, redeploy)];
  figure('workspace_seed_push_n1_s', seed.pushS);
  figure('workspace_seed_unpack_n1_s', seed.unpackS);
  figure('workspace_seed_push_unchanged_s', seedAgain.pushS);
  figure('upload_stack_without_workspace_n1_s', seed.uploadS);
  figure('kamal_dev_cli_start_s', await cliStartSeconds(client, kd1));
  figure('kamal_dev_redeploy_cli_start_s', await cliStartSeconds(client, redeploy));
  return [
    ...pipelineBreakdown('pipeline N=1', p1.runs),
    ...(await kamalDevBreakdown(client, 'kamal-dev N=1 cold', kd1)),
    ...(await kamalDevBreakdown(client, 'kamal-dev N=1 redeploy', redeploy)),
    '',
    ...timelineLines('kamal-dev N=1 cold', kd1, spans),
    '',
    ...timelineLines('kamal-dev N=1 redeploy', redeploy, await deploySpans(client, redeploy)),
    '',
  ];
}

async function n4Figures(client: Client, kd4: KamalDevRun, p4: Pipelines): Promise<string[]> {
  const spans = await deploySpans(client, kd4);
  const overlap = overlapOf(spans);
  figure('overlap_n4_s', overlap.seconds, 1);
  figure('overlap_n4', overlap.fraction);
  figure('vm_waited_for_push_n4_s', overlap.waitedS, 1);
  return [
    ...pipelineBreakdown('4 pipelines in parallel (slowest)', p4.runs),
    ...(await kamalDevBreakdown(client, 'kamal-dev N=4', kd4)),
    '',
    ...timelineLines('kamal-dev N=4', kd4, spans),
    '',
  ];
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
