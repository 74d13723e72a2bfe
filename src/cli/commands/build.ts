import { Command } from 'commander';
import { buildImages } from '../../images/build';
import { lastBuildPath } from '../../images/last-build';
import type { CliDeps } from '../deps';
import { contextOf, NO_CACHE_HELP, TAG_HELP } from '../context';
import { printerOf, specWarningLines } from '../output';
import { ImageCommandDeps, projectImageDeps, newBuildId, progressLines } from './images';

/** `kamal-dev build [--tag T] [--no-cache]`: build only, recorded for `push` and `deploy --skip-build`. */
export function registerBuildCommand(program: Command, deps: ImageCommandDeps): void {
  program
    .command('build')
    .description('build the images of this project (no push); `kamal-dev push` pushes what was built last')
    .option('--tag <tag>', TAG_HELP)
    .option('--no-cache', NO_CACHE_HELP)
    .action(async (options: { tag?: string; cache: boolean }, command: Command) => {
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
      print.result({ outcome: 'ok', images }, () => `built ${images.map((i) => i.image).join(', ')} (recorded in ${lastBuildPath(plan.projectDir)})`);
    });
}

export function register(program: Command, deps: CliDeps): void {
  registerBuildCommand(program, { ...projectImageDeps, stdout: deps.stdout, stderr: deps.stderr });
}
