import { DevState, readState, SshClaim, updateState } from '../state/devState';
import type { HostMarker } from './ssh-host';
import { LABELS } from './types';

/**
 * The source machine's copy of the ssh provider's claims, in .kamal/dev_state.yml where this
 * machine holds the project (none elsewhere): the markers on the hosts decide, this copy serves
 * `adopt` of claims made before identities, labels of markers made before labels, and hosts that
 * do not answer.
 */
export class ClaimCache {
  constructor(
    private readonly stateFile: string | undefined,
    private readonly identity: string,
  ) {}

  read(): DevState {
    return this.stateFile ? readState(this.stateFile) : { deployments: {}, ssh_claims: {} };
  }

  async remember(key: string, claim: SshClaim): Promise<void> {
    if (this.stateFile) await updateState(this.stateFile, (state) => void (state.ssh_claims[key] = claim));
  }

  async forget(key: string, name: string): Promise<void> {
    if (!this.stateFile) return;
    await updateState(this.stateFile, (state) => {
      const claim = state.ssh_claims[key];
      if (claim && typeof claim !== 'string' && claim.name === name && claim.project === this.identity) delete state.ssh_claims[key];
    });
  }

  /** The claim of that VM name among `keys` (the configured hosts). */
  claimedBy(state: DevState, keys: string[], name: string): { key: string; claim: SshClaim | string } | undefined {
    return Object.entries(state.ssh_claims)
      .filter(([key]) => keys.includes(key))
      .map(([key, claim]) => ({ key, claim }))
      .find(({ claim }) => (typeof claim === 'string' ? claim : claim.name) === name);
  }

  /** What a host that does not answer is listed as: the marker its claim would have written. */
  cachedMarker(state: DevState, key: string): (HostMarker & { unknown: true }) | undefined {
    const claim = state.ssh_claims[key];
    return claim && typeof claim === 'object' ? { project: claim.project, name: claim.name, unknown: true } : undefined;
  }

  labelsOf(state: DevState, name: string): Record<string, string> {
    const record = state.deployments[name];
    const labels: Record<string, string> = {};
    if (record?.service) labels[LABELS.service] = labels[LABELS.deployment] = record.service;
    if (record?.index !== undefined) labels[LABELS.index] = String(record.index);
    return labels;
  }
}
