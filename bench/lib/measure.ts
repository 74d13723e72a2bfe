import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../test/lab/exec';
import { removeDeploymentLeftovers } from '../../test/support/kamal-dev';
import { DEPLOY_ENV, ROOT, SECRETS } from './project';
import { RssPeak, sampleRss } from './rss';

export const BENCH_LABEL = 'kamal-dev.lab=bench';

interface Finished {
  /** Epoch milliseconds when the process was started. */
  startedAt: number;
  code: number;
  stdout: string;
  seconds: number;
  rss?: RssPeak;
}

/** Runs argv to completion, its stderr appended to logFile; with `rss`, samples the process tree's memory. */
function timed(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; rss?: boolean }): Promise<Finished> {
  const t0 = performance.now();
  const startedAt = Date.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = options.rss && child.pid ? sampleRss(child.pid) : undefined;
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => appendFileSync(options.logFile, chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const rss = sampler?.stop();
      resolve({ startedAt, code: code ?? -1, stdout: Buffer.concat(out).toString(), seconds: (performance.now() - t0) / 1000, rss });
    });
  });
}

export interface KamalDevRun {
  startedAt: number;
  seconds: number;
  workflowId: string;
  /** One child workflow per VM. */
  vmWorkflowIds: string[];
  rss?: RssPeak;
}

/** `kamal-dev deploy --count N --json` in the project, as a user runs it (the built CLI, its in-process worker). */
export async function kamalDevDeploy(projectDir: string, count: number, logFile: string, rss = false): Promise<KamalDevRun> {
  const run = await timed([join(ROOT, 'bin', 'kamal-dev'), 'deploy', '--count', String(count), '--json'], { cwd: projectDir, env: DEPLOY_ENV, logFile, rss });
  if (run.code !== 0) throw new Error(`kamal-dev deploy --count ${count} in ${projectDir} exited ${run.code}; see ${logFile}\n${run.stdout.slice(-2000)}`);
  const json = run.stdout.slice(run.stdout.search(/^\{$/m));
  if (!run.stdout.startsWith('{')) appendFileSync(logFile, `kamal-dev deploy --json wrote more than its summary to stdout:\n${run.stdout}\n`);
  const summary = JSON.parse(json) as { workflowId: string; outcome: string; vms: { workflowId: string }[] };
  if (summary.outcome !== 'deployed') throw new Error(`kamal-dev deploy --count ${count}: outcome ${summary.outcome}; see ${logFile}`);
  return { startedAt: run.startedAt, seconds: run.seconds, workflowId: summary.workflowId, vmWorkflowIds: summary.vms.map((v) => v.workflowId), rss: run.rss };
}

/** Everything one benchmark deployment made: its VMs (through kamal-dev itself), then anything labelled with it. */
export async function removeKamalDevDeployment(projectDir: string, service: string, logFile: string): Promise<void> {
  await timed([join(ROOT, 'bin', 'kamal-dev'), 'remove', '--all', '--force'], { cwd: projectDir, env: DEPLOY_ENV, logFile });
  await removeDeploymentLeftovers(service);
}

export interface PipelineRun {
  seconds: number;
  /** Seconds per step, in the order the pipeline ran them. */
  steps: [string, number][];
}

export async function runPipeline(id: string, projectDir: string, workDir: string, appImage: string, vmImage: string, logFile: string): Promise<PipelineRun> {
  const env = { ...DEPLOY_ENV, APP_IMAGE: appImage, VM_IMAGE: vmImage, LABEL: BENCH_LABEL, RAILS_MASTER_KEY: SECRETS.RAILS_MASTER_KEY };
  const run = await timed(['bash', join(__dirname, '..', 'pipeline.sh'), id, projectDir, workDir], { env, logFile });
  if (run.code !== 0) throw new Error(`bench/pipeline.sh ${id} exited ${run.code}; see ${logFile} and ${workDir}`);
  const marks = run.stdout
    .split('\n')
    .map((line) => line.match(/^mark (\S+) ([\d.]+)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => [m[1], Number(m[2])] as const);
  const steps = marks.slice(1).map(([name, at], i): [string, number] => [name, at - marks[i][1]]);
  return { seconds: run.seconds, steps };
}

/** The pipelines' VMs and images: everything that carries the benchmark's label. */
export async function removePipelineLeftovers(): Promise<void> {
  const containers = await sh(['docker', 'ps', '-aq', '--filter', `label=${BENCH_LABEL}`]);
  if (containers) await sh(['docker', 'rm', '-f', '-v', ...containers.split('\n')]);
  const images = await sh(['docker', 'images', '-q', '--filter', `label=${BENCH_LABEL}`]);
  if (images) await sh(['docker', 'rmi', '-f', ...new Set(images.split('\n'))]).catch(() => undefined);
}
