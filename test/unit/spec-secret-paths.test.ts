import { execFileSync } from 'node:child_process';
import { planJson, planSummary } from '../../src/cli/commands/plan';
import { composeVariables, devcontainerVariables, dotEnvNames } from '../../src/spec/interpolated';
import { execEnvFileContent, lifecycleExec } from '../../src/spec/lifecycle-secrets';
import { requiredSecretNames } from '../../src/spec/resolve-parts';
import { resolveSpec } from '../../src/spec/resolve';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

const P = (name: string) => `__KAMAL_DEV_SECRET_${name}__`;

describe('which variables are secrets', () => {
  const devcontainer = JSON.stringify({
    image: 'debian:bookworm-slim',
    containerEnv: { LISTED: '${localEnv:FROM_LIST}', LOOKS: '${localEnv:STRIPE_API_KEY}', PLAIN: '${localEnv:REGION}' },
    remoteEnv: { AUTH: 'Bearer ${localEnv:FILE_SECRET}', EDITOR: 'vim' },
    postCreateCommand: 'echo ${localEnv:FROM_LIST} > /tmp/x',
    postStartCommand: ['curl', '-H', 'token: ${localEnv:GH_TOKEN}', 'https://example.invalid'],
  });
  const env = { HOME: '/home/dev', FROM_LIST: 'listed-value-1', STRIPE_API_KEY: 'stripe-value-2', REGION: 'eu-north', GH_TOKEN: 'gh-value-3' };

  it('config secrets:, .kamal/secrets and credential-looking names never put a value in the plan; others are named as stored', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': devcontainer,
      '.kamal/secrets': 'FILE_SECRET=$(exit 1)\n',
      'config/dev.yml': 'service: shop\nsecrets: [FROM_LIST]\n',
    });
    const { plan, storedEnvironment } = await resolveSpec({ projectDir: dir, tag: 't', env });
    const text = JSON.stringify(plan);
    for (const value of ['listed-value-1', 'stripe-value-2', 'gh-value-3']) expect(text).not.toContain(value);
    expect((plan.stack.compose.services as Record<string, { environment: unknown }>).app.environment).toEqual({ LISTED: '${FROM_LIST}', LOOKS: '${STRIPE_API_KEY}', PLAIN: 'eu-north' });
    expect(plan.stack.secrets).toEqual(['FROM_LIST', 'STRIPE_API_KEY']);
    expect(plan.stack.lifecycle).toMatchObject({ env: { AUTH: `Bearer ${P('FILE_SECRET')}`, EDITOR: 'vim' }, secrets: ['FILE_SECRET', 'FROM_LIST', 'GH_TOKEN'] });
    expect(requiredSecretNames(plan).sort()).toEqual(['FILE_SECRET', 'FROM_LIST', 'GH_TOKEN', 'STRIPE_API_KEY']);
    expect(storedEnvironment).toEqual(['REGION']);
    const spec = await resolveSpec({ projectDir: dir, tag: 't', env });
    expect(planSummary(spec)).toContain('warning: REGION from the environment or .env: not secrets, so their values are stored (the plan in Temporal history');
    expect(planSummary(spec)).toContain('cmd secrets    FILE_SECRET, FROM_LIST, GH_TOKEN');
    expect(planJson(spec)).toMatchObject({ storedEnvironment: ['REGION'], lifecycleSecrets: ['FILE_SECRET', 'FROM_LIST', 'GH_TOKEN'] });
  });

  it('keeps ${localEnv:NAME} of every secret in the devcontainer.metadata label a feature build writes; a feature option refuses one', async () => {
    const feature = {
      '.devcontainer/features/canary/devcontainer-feature.json': JSON.stringify({ id: 'canary', version: '1.0.0', options: { note: { type: 'string', default: '' } } }),
      '.devcontainer/features/canary/install.sh': '#!/bin/sh\n',
      '.kamal/secrets': 'FILE_SECRET=$(exit 1)\n',
      'config/dev.yml': 'service: shop\nsecrets: [FROM_LIST]\n',
    };
    const withFeature = (options: Record<string, string>) => JSON.stringify({ ...JSON.parse(devcontainer), features: { './features/canary': options } });
    const dir = tempProject({ ...feature, '.devcontainer/devcontainer.json': withFeature({}) });
    const { plan } = await resolveSpec({ projectDir: dir, tag: 't', env });
    const label = plan.builds[0].features!.metadata;
    for (const value of ['listed-value-1', 'stripe-value-2', 'gh-value-3', '__KAMAL_DEV_SECRET_']) expect(label).not.toContain(value);
    expect(JSON.parse(label)[1]).toMatchObject({
      containerEnv: { LISTED: '${localEnv:FROM_LIST}', LOOKS: '${localEnv:STRIPE_API_KEY}', PLAIN: 'eu-north' },
      remoteEnv: { AUTH: 'Bearer ${localEnv:FILE_SECRET}', EDITOR: 'vim' },
      postCreateCommand: 'echo ${localEnv:FROM_LIST} > /tmp/x',
      postStartCommand: ['curl', '-H', 'token: ${localEnv:GH_TOKEN}', 'https://example.invalid'],
    });

    const optioned = tempProject({ ...feature, '.devcontainer/devcontainer.json': withFeature({ note: 'key ${localEnv:GH_TOKEN}' }) });
    await expect(resolveSpec({ projectDir: optioned, tag: 't', env })).rejects.toMatchObject({
      kind: 'config',
      file: '.devcontainer/devcontainer.json',
      key: 'features../features/canary.note',
      message: expect.stringContaining('takes the secret GH_TOKEN'),
    });
  });

  it('reads the variables a compose file and devcontainer.json refer to', () => {
    expect(composeVariables('a: ${A}\nb: ${B:-x}\nc: $C\nd: $$D\ne: $${E}')).toEqual(['A', 'B', 'C']);
    expect(devcontainerVariables('{"a": "${localEnv:A}", "b": "${env:B:default}", "c": "${containerEnv:C}"}')).toEqual(['A', 'B']);
    expect(dotEnvNames('# c\nA=1\nexport B = 2\n\nnot a line\n')).toEqual(['A', 'B']);
    expect(dotEnvNames(undefined)).toEqual([]);
  });
});

describe('lifecycle commands with secrets', () => {
  const values = { TOKEN: "t0k'en $x", OTHER: 'o' };

  it('keeps public remoteEnv in argv and puts every value with a secret in the env file', () => {
    const exec = lifecycleExec({ shell: `curl -H "x: ${P('TOKEN')}"` }, { AUTH: `Bearer ${P('OTHER')}`, EDITOR: 'vim' }, values);
    expect(exec).toEqual({
      command: ['/bin/sh', '-c', `curl -H "x: \${${P('TOKEN')}}"`],
      env: { EDITOR: 'vim' },
      secretEnv: { AUTH: 'Bearer o', [P('TOKEN')]: "t0k'en $x" },
    });
    expect(execEnvFileContent(exec.secretEnv)).toBe(`AUTH=Bearer o\n${P('TOKEN')}=t0k'en $x\n`);
  });

  it('runs an argv with a secret through sh, every other part quoted, and leaves one without as it is', () => {
    const exec = lifecycleExec({ argv: ['printf', '%s|', `a'b ${P('TOKEN')}!`, '$HOME'] }, {}, values);
    expect(exec.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(exec.command.join(' ')).not.toContain('t0k');
    const out = execFileSync(exec.command[0], exec.command.slice(1), { env: { ...exec.secretEnv, HOME: '/h' }, encoding: 'utf8' });
    expect(out).toBe("a'b t0k'en $x!|$HOME|");
    expect(lifecycleExec({ argv: ['true'] }, {}, values).command).toEqual(['true']);
  });

  it('refuses a secret with a line break, naming it', () => {
    expect(() => lifecycleExec({ shell: `echo ${P('TOKEN')}` }, {}, { TOKEN: 'a\nb' })).toThrow(/secret TOKEN holds a line break/);
  });
});
