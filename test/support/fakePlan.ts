import { createHash } from 'node:crypto';
import type { DeployInput } from '../../src/domain/deploy';
import type { DeployPlan } from '../../src/spec/plan';

/** A plan as planDeploy would resolve it, with secret names only (values live in the fakes' resolver). */
export function fakePlan(input: DeployInput, overrides: Partial<DeployPlan> = {}): DeployPlan {
  return {
    projectDir: input.projectDir,
    // One lock per project folder, as a real identity gives: tests in other folders never wait on each other.
    identity: createHash('sha256').update(input.projectDir).digest('hex').slice(0, 16),
    secretsFile: `${input.projectDir}/.kamal/secrets`,
    kind: 'compose',
    service: 'wftest',
    registry: { server: 'localhost:5556', namespace: 'lab', local: false, usernameSecret: 'REGISTRY_USER', passwordSecret: 'REGISTRY_PASSWORD' },
    tag: input.tag ?? 'abc123',
    builds: [
      {
        service: 'app',
        context: input.projectDir,
        dockerfile: `${input.projectDir}/Dockerfile`,
        args: {},
        secrets: ['NPM_TOKEN'],
        cacheFrom: [],
        image: `localhost:5556/lab/wftest-app:${input.tag ?? 'abc123'}`,
      },
    ],
    stack: { projectName: 'wftest', primaryService: 'app', compose: { services: { app: { image: 'x' } } }, files: [], secrets: ['DB_PASSWORD'], dropped: [] },
    vms: Array.from({ length: input.count ?? 1 }, (_, index) => ({ name: `wftest-${index + 1}`, index })),
    provider: { type: 'docker' },
    ssh: { user: 'root', port: 22, keyPath: '/tmp/key' },
    onFailure: 'destroy',
    ...overrides,
  };
}

/** The CLI's local planner (CliDeps.plan) for tests whose project folder holds no devcontainer. */
export const fakePlanner = async (options: { projectDir: string; count?: number }): Promise<DeployPlan> =>
  fakePlan({ ...options, skipBuild: false, skipPush: false });
