import Docker from 'dockerode';

/**
 * What a test run left in the Docker engine. A snapshot taken after the lab is up (so the lab's own
 * containers and cached images are in it) is compared with one taken when the tests are done; what
 * is new and carries a `kamal-dev.*` label (the lab's `kamal-dev.lab`, or kamal-dev's own such as
 * `kamal-dev.managed`, `kamal-dev.service`) or the run's id in its name, tag or a label value is left.
 *
 * Other runs share this engine (other worktrees, a second heavy slot): when one overlapped this run
 * (test/lab/runs.ts), a new object may be theirs, so only objects carrying this run's id count.
 * The run's id is the jest process's pid, which the suites (run in band) put in their names, in
 * decimal or base 36.
 */
export interface DockerObject {
  kind: 'container' | 'image' | 'volume' | 'network';
  /** Identity across snapshots: an image counts once per tag, so a tag added to an old image is new. */
  key: string;
  id: string;
  name: string;
  labels: Record<string, string>;
}

/** Images the lab keeps as its cache between runs: its base and part images, the local VM image. */
const CACHE_IMAGE = /^(kamal-dev-lab\/[^/]+|kamal-dev\/vm|debian):[^/]+$/;

export async function dockerObjects(docker = new Docker()): Promise<DockerObject[]> {
  const [containers, images, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true }),
    docker.listImages(),
    docker.listVolumes(),
    docker.listNetworks(),
  ]);
  const tagsOf = (tags: string[] | undefined) => (tags ?? []).filter((tag) => tag !== '<none>:<none>');
  return [
    ...containers.map((c): DockerObject => {
      const name = c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
      return { kind: 'container', key: c.Id, id: c.Id, name, labels: c.Labels ?? {} };
    }),
    ...images.flatMap((i): DockerObject[] => {
      const labels = i.Labels ?? {};
      const tags = tagsOf(i.RepoTags);
      if (tags.length === 0) return [{ kind: 'image', key: i.Id, id: i.Id, name: i.Id.replace(/^sha256:/, '').slice(0, 12), labels }];
      return tags.map((tag) => ({ kind: 'image', key: `${tag}@${i.Id}`, id: i.Id, name: tag, labels }));
    }),
    ...(volumes.Volumes ?? []).map((v): DockerObject => ({ kind: 'volume', key: v.Name, id: v.Name, name: v.Name, labels: v.Labels ?? {} })),
    ...networks.map((n): DockerObject => ({ kind: 'network', key: n.Id, id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
  ];
}

/** Whether `object` names this run: its id as a whole token of its name or of a label value. */
export function carriesRunId(object: DockerObject, runId: number): boolean {
  const token = new RegExp(`(^|[^a-z0-9])(${runId}|${runId.toString(36)})([^a-z0-9]|$)`, 'i');
  return [object.name, ...Object.values(object.labels)].some((text) => token.test(text));
}

export function leftovers(before: DockerObject[], after: DockerObject[], run: { id: number; alone: boolean }): DockerObject[] {
  const keys = new Set(before.map((o) => o.key));
  const ids = new Set(before.map((o) => o.id));
  return after.filter((object) => {
    // An image the run only untagged (it was there before) is not one it made.
    const isNew = !keys.has(object.key) && !(object.key === object.id && ids.has(object.id));
    if (!isNew || (object.kind === 'image' && CACHE_IMAGE.test(object.name))) return false;
    const marked = carriesRunId(object, run.id);
    if (!run.alone) return marked;
    return marked || Object.keys(object.labels).some((key) => key.startsWith('kamal-dev.'));
  });
}

export function describeLeftovers(objects: DockerObject[]): string {
  return objects.map((o) => `${o.kind} ${o.name}`).join(', ');
}
