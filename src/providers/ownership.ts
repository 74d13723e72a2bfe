import { KamalDevError } from '../errors';
import { LABELS } from './types';

/** Whose VM a VM is, as its labels say (for a local VM: as effectiveLabels says, its adoption counted). */
export type Ownership = 'ours' | 'foreign' | 'unowned' | 'not-kamal-dev';

export function ownershipOf(labels: Record<string, string>, identity: string): Ownership {
  if (labels[LABELS.managed] !== 'true') return 'not-kamal-dev';
  const project = labels[LABELS.project];
  if (!project) return 'unowned';
  return project === identity ? 'ours' : 'foreign';
}

/** The error for a VM that has the name but is not this project's: it names the VM and says how to go on. */
export function notOursError(name: string, ownership: Exclude<Ownership, 'ours'>, labels: Record<string, string> = {}): KamalDevError {
  if (ownership === 'not-kamal-dev') {
    return new KamalDevError('provider', `a machine named ${name} exists and is not a kamal-dev VM; kamal-dev left it untouched`, {
      description: `Rename or remove it yourself (for a local VM: docker rm -f ${name}), or give this project another \`service\` in config/dev.yml.`,
    });
  }
  const whose =
    ownership === 'foreign'
      ? `belongs to another kamal-dev project (${LABELS.project}=${labels[LABELS.project]})`
      : `was made before kamal-dev recorded project identities (it has no ${LABELS.project} label)`;
  return new KamalDevError('provider', `VM ${name} ${whose}; kamal-dev left it untouched`, {
    description: `If it is this project's (made from this folder before, or from a copy of it), take it over with \`kamal-dev adopt ${name}\`; otherwise give this project another \`service\` in config/dev.yml.`,
  });
}

export function adoptMissingError(name: string): KamalDevError {
  return new KamalDevError('config', `no kamal-dev VM named ${name} exists`, {
    description: 'Run `kamal-dev list` to see the VMs of this project; adopt takes over a VM that exists but belongs to another identity.',
  });
}
