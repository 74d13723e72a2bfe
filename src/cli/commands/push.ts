import { Command } from 'commander';
import { requireLastBuild } from '../../images/last-build';
import { pushImages } from '../../images/push';
import { GlobalOptions } from '../output';
import { ImageCommandDeps, projectImageDeps, renderPushEvent } from './images';

/** `kamal-dev push [--tag T] [--keep]`: pushes exactly what `build` made last; never builds, never invents a tag. */
export function registerPushCommand(program: Command, deps: ImageCommandDeps): void {
  program
    .command('push')
    .description('push the images built last by `kamal-dev build`, and verify them in the registry')
    .option('--tag <tag>', 'the tag that was built (default: the last build)')
    .option('--keep', 'keep a local tag this push created even when the push fails')
    .action(async (options: { tag?: string; keep?: boolean }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions & { cwd?: string }>();
      const out = deps.stdout ?? process.stdout;
      const cwd = global.cwd ?? process.cwd();
      const located = await deps.loadPlan({ cwd, tag: options.tag });
      const record = requireLastBuild(located.projectDir, options.tag);
      const plan = record.tag === located.tag ? located : await deps.loadPlan({ cwd, tag: record.tag });
      const pushed = await pushImages(plan, record.images, {
        resolveSecret: deps.secretsFor(plan),
        keep: options.keep,
        onEvent: (image, event) => {
          const line = global.json ? undefined : renderPushEvent(image, event);
          if (line) out.write(line + '\n');
        },
      });
      if (global.json) out.write(JSON.stringify({ outcome: 'ok', images: pushed }) + '\n');
      else for (const image of pushed) out.write(`pushed and verified ${image.image}@${image.digest}\n`);
    });
}

export function register(program: Command): void {
  registerPushCommand(program, projectImageDeps);
}
