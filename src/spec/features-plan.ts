import { localEnvReferences } from './compose-secrets';
import { optionsEnvFile } from './features';
import type { LoadedFeature } from './features-load';
import { featuresDockerfile, metadataLabel } from './features-stage';
import type { FeatureCommands } from './lifecycle';
import { lifecycleSteps } from './devcontainer-vars';
import type { FeaturesStage, ImageBuild } from './plan';
import { ContainerContext, ContainerSettings, containerSettings, withContainerSettings } from './devcontainer-container';

/** The FeaturesStage of the primary build: pure, from the loaded features and devcontainer.json's own metadata (a secret in it as `${localEnv:NAME}`). */
export function featuresStage(features: LoadedFeature[], own: Record<string, unknown>, baseImage?: string): FeaturesStage {
  return {
    ...(baseImage ? { baseImage } : {}),
    dockerfile: featuresDockerfile(features, { containerUser: own.containerUser as string | undefined, remoteUser: own.remoteUser as string | undefined }),
    features: features.map((f) => ({ dir: f.dir, source: f.sourceDir, env: optionsEnvFile(f.options) })),
    metadata: metadataLabel([], features, localEnvReferences(own)),
  };
}

/**
 * The features' mounts, capAdd, securityOpt, privileged and init for the primary container, merged
 * in install order as the spec merges metadata (lists joined, booleans or-ed); devcontainer.json's
 * own settings are applied after these.
 */
export function featureContainerSettings(features: LoadedFeature[], context: ContainerContext): ContainerSettings {
  const merged: ContainerSettings = { service: {}, volumes: [], ports: [], warnings: [] };
  for (const f of features) {
    const { mounts, capAdd, securityOpt, privileged, init } = f.manifest;
    const settings = containerSettings({ mounts, capAdd, securityOpt, privileged, init } as never, 'compose', { ...context, devcontainerDir: f.sourceDir });
    merged.service = withContainerSettings(merged.service, { ...settings, volumes: [], ports: [] });
    merged.volumes.push(...settings.volumes);
    merged.warnings.push(...settings.warnings.map((w) => ({ ...w, key: `features.${f.ref}.${w.key}` })));
  }
  return merged;
}

/** The features' entrypoints, in install order. */
export function featureEntrypoints(features: LoadedFeature[]): string[] {
  return features.map((f) => f.manifest.entrypoint).filter((e): e is string => typeof e === 'string' && e !== '');
}

/** Each feature's lifecycle commands, in install order: they run before the devcontainer's own. */
export function featureCommands(features: LoadedFeature[]): FeatureCommands {
  const hooks = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const;
  return features.map((f) => ({
    feature: f.manifest.id,
    commands: Object.fromEntries(hooks.filter((h) => f.manifest[h] !== undefined).map((h) => [h, lifecycleSteps(f.manifest[h] as never)])),
  }));
}

/** The build of a primary service that has only an image: the features stage on top of it, nothing else. */
export function featuresOnlyBuild(service: string, devcontainerDir: string, image: string): ImageBuild {
  return { service, context: devcontainerDir, dockerfile: '', args: {}, secrets: [], cacheFrom: [], image };
}
