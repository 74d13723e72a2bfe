import { Command } from 'commander';
import { buildImages } from '../../images/build';
import { lastBuildPath } from '../../images/last-build';
import { GlobalOptions } from '../output';
import { ImageCommandDeps, projectImageDeps, newBuildId, renderBuildEvent } from './images';

/** `kamal-dev build [--tag T] [--no-cache]`: build only, recorded for `push` and `deploy --skip-build`. */
export function registerBuildCommand(program: Command, deps: ImageCommandDeps): void {
  program
    .command('build')
    .description('build the images of this project (no push); `kamal-dev push` pushes what was built last')
    .option('--tag <tag>', 'image tag (default: the git commit, or a timestamp)')
    .option('--no-cache', 'build every step again')
    .action(async (options: { tag?: string; cache: boolean }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions & { cwd?: string }>();
      const out = deps.stdout ?? process.stdout;
      const plan = await deps.loadPlan({ cwd: global.cwd ?? process.cwd(), tag: options.tag, initialize: true });
      if (plan.builds.length === 0) {
        out.write(global.json ? JSON.stringify({ outcome: 'ok', images: [] }) + '\n' : 'nothing to build: the devcontainer uses a prebuilt image\n');
        return;
      }
      const images = await buildImages(plan, {
        buildId: newBuildId(plan),
        noCache: !options.cache,
        checkCredentials: false,
        resolveSecret: deps.secretsFor(plan),
        onEvent: (service, event) => {
          const line = global.json ? undefined : renderBuildEvent(service, event);
          if (line) out.write(line + '\n');
        },
      });
      if (global.json) out.write(JSON.stringify({ outcome: 'ok', images }) + '\n');
      else out.write(`built ${images.map((i) => i.image).join(', ')} (recorded in ${lastBuildPath(plan.projectDir)})\n`);
    });
}

export function register(program: Command): void {
  registerBuildCommand(program, projectImageDeps);
}
