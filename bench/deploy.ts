// `npm run bench`: kamal-dev deploy against the same steps as a plain shell pipeline, in the lab, all
// in one run so the ratios hold on a noisy machine. Prints `name: value` figures; asserts nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringUp, tearDown } from '../test/lab/lab';
import { allParts } from '../test/lab/parts';
import { sh } from '../test/lab/exec';
import { temporalClient } from './lib/history';
import { BENCH_LABEL, KamalDevRun, kamalDevDeploy, PipelineRun, removeKamalDevDeployment, removePipelineLeftovers, runPipeline } from './lib/measure';
import { DEPLOY_ENV, pipelineWorkDir, railsProject, ROOT, SECRETS } from './lib/project';
import { kamalDevBreakdown, pipelineBreakdown } from './lib/report';

const NEEDED = ['docker', 'baseImage', 'localRegistry', 'postgres', 'temporal', 'vmImage'];
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const figure = (name: string, value: number, digits = 2) => process.stdout.write(`${name}: ${value.toFixed(digits)}\n`);

async function main(): Promise<void> {
  const { state, started } = await bringUp(allParts, log);
  try {
    const missing = NEEDED.filter((part) => !state[part]?.ok);
    const vm = state.vmImage;
    if (missing.length > 0 || !vm?.ok) throw new Error(`lab part(s) not up: ${missing.join(', ')} (see npm run lab -- status)`);
    await measure(String(vm.info.image));
  } finally {
    await tearDown(started, log);
  }
}

async function measure(vmImage: string): Promise<void> {
  const run = `kdb${Date.now().toString(36).slice(-5)}`;
  const logs = mkdtempSync(join(tmpdir(), `kamal-dev-bench-${run}-`));
  const logFile = join(logs, 'kamal-dev.log');
  log(`run ${run}: logs in ${logs}`);
  log('npm run build');
  await sh(['npm', '--prefix', ROOT, 'run', 'build'], { timeoutMs: 300_000 });

  // Every build measured below then finds the same warm layer cache (the Dockerfile's apt step).
  log('warming the build cache');
  const warm = await railsProject(`${run}-warm`);
  await sh(['docker', 'buildx', 'build', '--progress=quiet', '-f', join(warm, '.devcontainer', 'Dockerfile'), '--build-arg', `BASE_IMAGE=${DEPLOY_ENV.BASE_IMAGE}`,
    '--secret', 'id=RAILS_MASTER_KEY,env=RAILS_MASTER_KEY', '--label', BENCH_LABEL, '-t', `kamal-dev-bench/${run}-warm:latest`, warm],
    { env: { ...process.env, RAILS_MASTER_KEY: SECRETS.RAILS_MASTER_KEY }, timeoutMs: 900_000 });

  const pipeline = async (ids: string[]): Promise<{ wall: number; runs: PipelineRun[] }> => {
    const t0 = performance.now();
    try {
      const runs = await Promise.all(ids.map(async (id) => {
        const image = `localhost:5555/kamal-dev-bench/${id}:latest`;
        return runPipeline(id, await railsProject(id), await pipelineWorkDir(image), image, vmImage, logFile);
      }));
      return { wall: (performance.now() - t0) / 1000, runs };
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

  log('pipeline, 1 VM');
  const p1 = await pipeline([`${run}-p1`]);
  log(`  ${p1.wall.toFixed(1)}s`);
  const [kd1, redeploy] = await kamalDev(`${run}-n1`, [1, 1]);
  const [kd2] = await kamalDev(`${run}-n2`, [2]);
  const [kd4] = await kamalDev(`${run}-n4`, [4], true);
  log('4 pipelines in parallel');
  const p4 = await pipeline([1, 2, 3, 4].map((i) => `${run}-p4-${i}`));
  log(`  ${p4.wall.toFixed(1)}s`);

  figure('kamal_dev_n1_s', kd1.seconds, 1);
  figure('kamal_dev_n2_s', kd2.seconds, 1);
  figure('kamal_dev_n4_s', kd4.seconds, 1);
  figure('kamal_dev_redeploy_n1_s', redeploy.seconds, 1);
  figure('pipeline_n1_s', p1.wall, 1);
  figure('pipeline_4_parallel_s', p4.wall, 1);
  figure('overhead_n1', kd1.seconds / p1.wall);
  figure('fanout_vs_parallel_pipelines', kd4.seconds / p4.wall);
  figure('fanout_vs_sequential', kd4.seconds / (4 * kd1.seconds));
  figure('parallel_pipelines_vs_one', p4.wall / p1.wall);
  figure('redeploy_vs_cold', redeploy.seconds / kd1.seconds);
  figure('worker_peak_rss_mb', kd4.rss!.processMb, 0);
  figure('worker_tree_peak_rss_mb', kd4.rss!.treeMb, 0);

  const temporal = await temporalClient(DEPLOY_ENV.TEMPORAL_ADDRESS);
  try {
    const lines = [
      ...pipelineBreakdown('pipeline N=1', p1.runs),
      ...(await kamalDevBreakdown(temporal.client, 'kamal-dev N=1 cold', kd1)),
      ...(await kamalDevBreakdown(temporal.client, 'kamal-dev N=1 redeploy', redeploy)),
      ...(await kamalDevBreakdown(temporal.client, 'kamal-dev N=2', kd2)),
      ...pipelineBreakdown('4 pipelines in parallel (slowest)', p4.runs),
      ...(await kamalDevBreakdown(temporal.client, 'kamal-dev N=4', kd4)),
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    await temporal.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
