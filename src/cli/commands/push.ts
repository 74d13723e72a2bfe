import type { Command } from 'commander';
import { requireLastBuild } from '../../images/last-build';
import { pushImages } from '../../images/push';
import type { CliDeps } from '../deps';
import { contextOf } from '../context';
import { printerOf } from '../output';
import { imageDepsOf, progressLines } from './images';

/** `kamal-dev push [--tag T] [--keep]`: pushes exactly what `build` made last; never builds, never invents a tag. */
export async function action(cli: CliDeps, options: { tag?: string; keep?: boolean }, command: Command): Promise<void> {
  const deps = imageDepsOf(cli);
  const print = printerOf(command, deps);
  const cwd = contextOf(command).projectDir;
  const located = (await deps.loadPlan({ cwd, tag: options.tag })).plan;
  const record = requireLastBuild(located.projectDir, options.tag);
  const plan = record.tag === located.tag ? located : (await deps.loadPlan({ cwd, tag: record.tag })).plan;
  const show = progressLines(print.note);
  const pushed = await pushImages(plan, record.images, {
    resolveSecret: deps.secretsFor(plan),
    keep: options.keep,
    onEvent: (image, event) => show({ phase: 'push', image, event }),
  });
  print.result({ outcome: 'ok', images: pushed }, () => pushed.map((image) => `pushed and verified ${image.image}@${image.digest}`).join('\n'));
}
