import { z } from 'zod';

/** The devcontainer.json keys kamal-dev reads; every other key (features, customizations, ...) is allowed and ignored. */
const stringMap = z.record(z.string(), z.string());
const command = z.union([z.string(), z.array(z.string()), z.record(z.string(), z.union([z.string(), z.array(z.string())]))]);

const mount = z.looseObject({ type: z.enum(['bind', 'volume']), source: z.string().optional(), target: z.string().min(1) });
const port = z.union([z.number().int().min(1).max(65535), z.string().regex(/^(\d+:)?\d+$/, 'expected a port or "host:container"')]);
const size = z.string().regex(/^\d+(\.\d+)?\s*(tb|gb|mb|kb)?$/i, 'expected a size such as "8gb"');

export const devcontainerSchema = z.looseObject({
  name: z.string().optional(),
  image: z.string().min(1).optional(),
  build: z
    .looseObject({
      dockerfile: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
      args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      target: z.string().min(1).optional(),
      cacheFrom: z.union([z.string(), z.array(z.string())]).optional(),
    })
    .optional(),
  // The pre-2021 spelling of build.dockerfile / build.context.
  dockerFile: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  dockerComposeFile: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  service: z.string().min(1).optional(),
  runServices: z.array(z.string().min(1)).optional(),
  workspaceFolder: z.string().startsWith('/', 'must be an absolute path in the container').optional(),
  containerEnv: stringMap.optional(),
  remoteEnv: z.record(z.string(), z.string().nullable()).optional(),
  remoteUser: z.string().min(1).optional(),
  forwardPorts: z.array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^[A-Za-z0-9_.-]+:\d+$/, 'expected a port or "service:port"')])).optional(),
  portsAttributes: z.record(z.string(), z.looseObject({ label: z.string().optional() })).optional(),
  postCreateCommand: command.optional(),
  postStartCommand: command.optional(),
  initializeCommand: command.optional(),
  onCreateCommand: command.optional(),
  updateContentCommand: command.optional(),
  postAttachCommand: command.optional(),
  waitFor: z.enum(['initializeCommand', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand']).optional(),
  overrideCommand: z.boolean().optional(),
  features: z.record(z.string(), z.unknown()).optional(),
  overrideFeatureInstallOrder: z.array(z.string().min(1)).optional(),
  mounts: z.array(z.union([z.string().min(1), mount])).optional(),
  privileged: z.boolean().optional(),
  init: z.boolean().optional(),
  capAdd: z.array(z.string().min(1)).optional(),
  securityOpt: z.array(z.string().min(1)).optional(),
  containerUser: z.string().min(1).optional(),
  runArgs: z.array(z.string()).optional(),
  workspaceMount: z.string().min(1).optional(),
  appPort: z.union([port, z.array(port)]).optional(),
  hostRequirements: z
    .looseObject({ cpus: z.number().int().min(1).optional(), memory: size.optional(), storage: size.optional() })
    .optional(),
});

export type RawDevcontainer = z.infer<typeof devcontainerSchema>;
