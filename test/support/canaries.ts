// The canary search: distinctive secret values, and every place kamal-dev may have put one.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import { sh } from '../lab/exec';

/** kind -> a value found nowhere else (the kinds name where each secret is used). */
export type Canaries = Record<string, string>;

export function makeCanaries(kinds: string[]): Canaries {
  return Object.fromEntries(kinds.map((kind) => [kind, `canary-${kind}-${randomBytes(6).toString('hex')}`]));
}

/** One text and where it came from. */
export interface Place {
  where: string;
  text: string;
}

/** `where: kind` for every canary in every place. */
export function sightings(places: Place[], canaries: Canaries): string[] {
  return places.flatMap((place) => Object.entries(canaries).filter(([, value]) => place.text.includes(value)).map(([kind]) => `${place.where}: ${kind}`));
}

/** Every file under a project's .kamal/ except the secrets file itself. */
export function stateFiles(projectDir: string): Place[] {
  const root = join(projectDir, '.kamal');
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
  if (!existsSync(root)) return [];
  return walk(root)
    .filter((file) => relative(root, file) !== 'secrets')
    .map((file) => ({ where: `${projectDir}/${relative(projectDir, file)}`, text: readFileSync(file, 'latin1') }));
}

/** Every history of the workflows started since `since` whose id names one of `names`; payloads decoded. */
export async function workflowHistories(client: Client, since: Date, names: string[]): Promise<Place[]> {
  const places: Place[] = [];
  for await (const workflow of client.workflow.list({ query: `StartTime >= "${since.toISOString()}"` })) {
    if (!names.some((name) => workflow.workflowId.includes(name))) continue;
    const history = await client.workflow.getHandle(workflow.workflowId, workflow.runId).fetchHistory();
    places.push({ where: `history of ${workflow.workflowId}`, text: decoded(history) });
  }
  return places;
}

/** Strings and byte arrays (payload data) of a protobuf object, as one text. */
function decoded(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(decoded).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(decoded).join('\n');
  return '';
}

/**
 * On a local VM: every file under /opt/kamal-dev that is not mode 600 and every Docker config, by
 * name when it holds a canary; the mode-600 files are listed apart (they are meant to hold secrets).
 */
export async function vmFileSightings(vm: string, canaries: Canaries): Promise<{ sightings: string[]; secretFiles: string[] }> {
  const patterns = Object.values(canaries).flatMap((value) => ['-e', value]);
  const grep = async (findArgs: string) =>
    (await sh(['docker', 'exec', vm, 'sh', '-c', `find ${findArgs} -type f -print0 2>/dev/null | xargs -0 -r grep -l -F "$@" || true`, 'sh', ...patterns])).split('\n').filter(Boolean);
  // runc's process spec of an exec (a healthcheck's too) holds the container's environment while it runs.
  const found = [...(await grep('/opt/kamal-dev ! -perm 600')), ...(await grep("/root/.docker /tmp ! -name 'runc-process*'"))];
  const secretFiles = (await sh(['docker', 'exec', vm, 'find', '/opt/kamal-dev', '-type', 'f', '-perm', '600'])).split('\n').filter(Boolean);
  const located = await Promise.all(found.map(async (file) => ({ where: `${vm}:${file}`, text: await sh(['docker', 'exec', vm, 'cat', file]).catch((e: Error) => e.message) })));
  return { sightings: sightings(located, canaries), secretFiles };
}

/** `docker inspect` of every container on a local VM, without the environment entries named in `needed`. */
export async function containerInspections(vm: string, needed: string[]): Promise<Place[]> {
  const ids = (await sh(['docker', 'exec', vm, 'docker', 'ps', '-aq'])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(await sh(['docker', 'exec', vm, 'docker', 'inspect', ...ids])) as { Name: string; Config: { Env?: string[] } }[];
  return inspected.map((c) => {
    const Env = (c.Config.Env ?? []).filter((entry) => !needed.includes(entry.split('=')[0]));
    return { where: `${vm}: docker inspect ${c.Name}`, text: JSON.stringify({ ...c, Config: { ...c.Config, Env } }) };
  });
}

/** An image's layers (the uncompressed tars of `docker save`), history and config. */
export async function imageSightings(image: string, canaries: Canaries): Promise<string[]> {
  const patterns = Object.values(canaries).flatMap((value) => ['-e', value]);
  const inLayers = await sh(['bash', '-c', `docker save "$1" | grep -a -o -F "\${@:2}" | sort -u || true`, 'bash', image, ...patterns]);
  const places = [
    { where: `layers of ${image}`, text: inLayers },
    { where: `history of ${image}`, text: await sh(['docker', 'history', '--no-trunc', image]) },
    { where: `config of ${image}`, text: await sh(['docker', 'image', 'inspect', image]) },
  ];
  return sightings(places, canaries);
}
