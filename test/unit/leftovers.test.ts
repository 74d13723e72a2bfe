import { carriesRunId, DockerObject, leftovers } from '../lab/leftovers';

const RUN = 41235;
const object = (kind: DockerObject['kind'], name: string, labels: Record<string, string> = {}, id = `id-${name}`): DockerObject => ({
  kind,
  key: kind === 'image' ? `${name}@${id}` : id,
  id,
  name,
  labels,
});

const lab = object('container', 'kamal-dev-lab-registry', { 'kamal-dev.lab': 'registry' });
const before = [lab, object('image', 'kamal-dev-lab/postgres:15', { 'kamal-dev.lab': 'postgres' }, 'sha-pg')];

describe('the leftover check', () => {
  it('names what the run made and left: labelled by kamal-dev or the lab, or named with the run id', () => {
    const built = object('image', `localhost:5565/build-test/app:${RUN}-abc`, { 'kamal-dev.service': 'build-test' });
    const vm = object('container', 'e2e-simple-1', { 'kamal-dev.managed': 'true' });
    const network = object('network', 'lab-net', { 'kamal-dev.lab': 'test' });
    const unlabelled = object('image', `kamal-dev-vms-skip:${RUN}`);
    const after = [...before, built, vm, network, unlabelled, object('volume', 'someone-elses')];
    expect(leftovers(before, after, { id: RUN, alone: true })).toEqual([built, vm, network, unlabelled]);
  });

  it('counts only objects named with the run id when another run shared the engine', () => {
    const ours = object('container', `vms-prov-${RUN}-1`, { 'kamal-dev.managed': 'true' });
    const theirs = object('container', 'e2e-simple-1', { 'kamal-dev.managed': 'true' });
    const faults = object('image', `compose-fail-${RUN.toString(36)}/app:x`, { 'kamal-dev.service': 'x' });
    expect(leftovers(before, [...before, ours, theirs, faults], { id: RUN, alone: false })).toEqual([ours, faults]);
  });

  it("keeps the lab's cache and what was there before, counts a new tag on an old image", () => {
    const vmImage = object('image', 'kamal-dev/vm:c8c6ed1ed7a4', { 'kamal-dev.vm-image': 'true' });
    const untagged = { ...before[1], key: 'sha-pg', name: 'sha-pg' };
    const retagged = object('image', 'localhost:5556/lab/postgres:15', { 'kamal-dev.lab': 'postgres' }, 'sha-pg');
    expect(leftovers(before, [lab, vmImage, untagged, retagged], { id: RUN, alone: true })).toEqual([retagged]);
  });

  it('matches the run id as a whole token only', () => {
    expect(carriesRunId(object('image', `app:${RUN}1`), RUN)).toBe(false);
    expect(carriesRunId(object('container', 'x', { 'kamal-dev.deployment': `svc-${RUN}` }), RUN)).toBe(true);
  });
});
