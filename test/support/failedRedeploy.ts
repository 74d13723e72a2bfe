import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../lab/exec';
import { expectJson } from './json-shapes';
import { execInStack, kamalDev } from './kamal-dev';

/** The Rails example's app with a healthcheck that can never pass: the new stack fails verify. */
function withFailingAppHealthcheck(compose: string): string {
  const broken = compose.replace('    init: true\n', '    init: true\n    healthcheck:\n      test: ["CMD", "false"]\n      interval: 1s\n      retries: 1\n');
  if (broken === compose) throw new Error('the example compose file changed: no `init: true` line under app');
  return broken;
}

/**
 * The issue's scenario through the built CLI, on an already deployed Rails example: a row in
 * Postgres and a file in the workspace, then a `deploy` whose new stack fails verify. The deploy
 * fails (exit 1) and says it rolled back; the VMs, their containers' data, volumes and files stay.
 */
export async function expectFailedRedeployRollsBack(project: { dir: string; env: NodeJS.ProcessEnv }, vms: string[], composeProject: string): Promise<void> {
  const vm = vms[0];
  const psql = (sql: string) => execInStack(vm, composeProject, 'db', ['psql', '-U', 'postgres', '-d', 'rails_app_development', '-Atc', sql]);
  await psql("create table e2e_kept (note text); insert into e2e_kept values ('written before the failed redeploy')");
  await execInStack(vm, composeProject, 'app', ['sh', '-c', 'echo edited on the VM > /workspaces/rails-app/e2e-note.txt']);
  const vmState = () => Promise.all(vms.map((name) => sh(['docker', 'inspect', '-f', '{{.Id}} {{.State.StartedAt}}', name])));
  const innerVolumes = () => sh(['docker', 'exec', vm, 'docker', 'volume', 'ls', '-q']);
  const [vmsBefore, volumesBefore] = [await vmState(), await innerVolumes()];
  expect(volumesBefore).toContain(`${composeProject}_postgres-data`);

  const composeFile = join(project.dir, '.devcontainer', 'compose.yaml');
  const compose = readFileSync(composeFile, 'utf8');
  writeFileSync(composeFile, withFailingAppHealthcheck(compose));
  const failed = await kamalDev(['deploy', '--json'], { cwd: project.dir, env: project.env }).finally(() => writeFileSync(composeFile, compose));

  expect(failed.stderr).not.toMatch(/\n\s+at /);
  expect(failed.code).toBe(1);
  const summary = expectJson('deploy', failed.stdout) as { outcome: string; vms: { name: string; state: string; error?: string; cleanup?: string }[] };
  expect(summary.outcome).toBe('failed');
  expect(summary.vms.map((v) => [v.name, v.state, v.cleanup])).toEqual(vms.map((name) => [name, 'failed', 'kept']));
  for (const v of summary.vms) expect(v.error).toMatch(/unhealthy[\s\S]*; rolled back to the previous stack/);
  expect(await vmState()).toEqual(vmsBefore);
  expect(await innerVolumes()).toBe(volumesBefore);
  expect(await psql('select note from e2e_kept')).toBe('written before the failed redeploy');
  expect(await execInStack(vm, composeProject, 'app', ['cat', '/workspaces/rails-app/e2e-note.txt'])).toBe('edited on the VM');
}
