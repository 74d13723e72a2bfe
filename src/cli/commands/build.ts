import type { Command } from 'commander';
import { buildImages } from '../../images/build';
import { lastBuildPath } from '../../images/last-build';
import type { BuiltImage } from '../../domain/images';
import type { CliDeps } from '../deps';
import { contextOf } from '../context';
import { printerOf, specWarningLines } from '../output';
import { imageDepsOf, newBuildId, progressLines } from './images';

/** `kamal-dev build [--tag T] [--no-cache]`: build only, recorded for `push` and `deploy --skip-build`. */
export async function action(cli: CliDeps, options: { tag?: string; cache: boolean }, command: Command): Promise<void> {
  const deps = imageDepsOf(cli);
  const print = printerOf(command, deps);
  const checked = await deps.loadPlan({ cwd: contextOf(command).projectDir, tag: options.tag, initialize: true });
  for (const line of specWarningLines(checked)) print.note(line);
  const plan = checked.plan;
  if (plan.builds.length === 0) return print.result({ outcome: 'ok', images: [] }, () => 'nothing to build: the devcontainer uses a prebuilt image');
  const show = progressLines(print.note);
  const images = await buildImages(plan, {
    buildId: newBuildId(plan),
    noCache: !options.cache,
    checkCredentials: false,
    resolveSecret: deps.secretsFor(plan),
    onEvent: (service, event) => show({ phase: 'build', service, event }),
  });
  print.result({ outcome: 'ok', images }, () => describeBuilt(images, lastBuildPath(plan.projectDir)));
}

function describeBuilt(images: BuiltImage[], record: string): string {
  if (images.every((i) => i.reused)) return `unchanged since the last build: ${images.map((i) => i.image).join(', ')} (--no-cache rebuilds)`;
  return `built ${images.map((i) => i.image).join(', ')} (recorded in ${record})`;
}
