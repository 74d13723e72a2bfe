import type { DeployPlan, ImageBuild, RegistryPlan } from '../../src/spec/plan';

/** A DeployPlan for one Dockerfile build in `dir`, as the spec layer would resolve it. */
export function buildPlan(dir: string, registry: RegistryPlan, tag: string, build: Partial<ImageBuild> = {}): DeployPlan {
  return {
    projectDir: dir,
    identity: 'buildtestidentity',
    secretsFile: `${dir}/.kamal/secrets`,
    kind: 'dockerfile',
    service: 'build-test',
    registry,
    tag,
    builds: [
      {
        service: 'app',
        context: dir,
        dockerfile: `${dir}/Dockerfile`,
        args: {},
        secrets: [],
        cacheFrom: [],
        image: `${registry.server}/build-test/app:${tag}`,
        ...build,
      },
    ],
    stack: { projectName: 'build-test', primaryService: 'app', compose: {}, files: [], secrets: [], dropped: [] },
    vms: [],
    provider: { type: 'docker' },
    ssh: { user: 'root', port: 22, keyPath: '/nonexistent' },
    onFailure: 'destroy',
  };
}

export function resolverWith(values: Record<string, string>): (name: string) => string {
  return (name) => {
    if (!(name in values)) throw new Error(`${name} is not set`);
    return values[name];
  };
}
