import { uploadStackTo, type UploadProgress } from '../remote/upload';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function uploadStackActivity(ctx: VmContext): DeployActivities['uploadStack'] {
  return ({ plan, vm, fromSeed }) =>
    classified('ConfigInvalid', async () => {
      const session = await ctx.session(plan, vm);
      const secretValues = await ctx.secrets(plan, plan.stack.secrets);
      let progress: UploadProgress = { bytes: 0, totalBytes: 0 };
      // Heartbeats carry the bytes sent: the CLI shows them, and a retry could start from them.
      return heartbeating(
        () => ({ step: 'upload', ...progress }),
        (beat) => uploadStackTo(session, plan, secretValues, (p) => ((progress = p), beat()), { fromSeed }),
      );
    });
}
