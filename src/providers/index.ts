import type { ProviderConfig } from '../spec/plan';
import { KamalDevError } from '../errors';
import { DockerProvider } from './docker';
import { SshProvider } from './ssh';
import type { HostStack } from './ssh-host';
import type { Provider } from './types';

export interface ProviderDeps {
  /** The project identity (plan.identity): the provider sees only this project's VMs. */
  identity: string;
  /** plan.ssh.user / plan.ssh.port: the defaults for VMs and hosts that do not name their own. */
  sshUser: string;
  sshPort: number;
  /** .kamal/dev_state.yml where this machine holds the project (the ssh provider keeps a copy of its claims there). */
  stateFile?: string;
  hostStack: HostStack;
  /** Providers written elsewhere (upcloud) register here, so this file needs no import of them. */
  others?: Record<string, (config: ProviderConfig) => Provider>;
}

export function createProvider(config: ProviderConfig, deps: ProviderDeps): Provider {
  switch (config.type) {
    case 'docker':
      return new DockerProvider({ image: config.image, baseImage: config.baseImage, sshUser: deps.sshUser, identity: deps.identity });
    case 'ssh':
      return new SshProvider({
        hosts: config.hosts,
        stateFile: deps.stateFile,
        defaultUser: deps.sshUser,
        defaultPort: deps.sshPort,
        hostStack: deps.hostStack,
        identity: deps.identity,
      });
    default: {
      const make = deps.others?.[config.type];
      if (make) return make(config);
      throw new KamalDevError('config', `provider type ${config.type} is not available in this build`, { key: 'provider/type' });
    }
  }
}
