/** Reads `docker push` output (not a terminal: one line per layer state change) into events. */
export type PushEvent =
  | { type: 'layer'; layer: string; status: string }
  | { type: 'pushed'; tag: string; digest: string; size: number }
  /** Not from docker push's output: pushImages reports the image's size before it starts. */
  | { type: 'started'; bytes: number };

const LAYER = /^([0-9a-f]{12}): (.+)$/;
const DIGEST = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$/;

export function parsePushLine(line: string): PushEvent | undefined {
  const digest = DIGEST.exec(line.trim());
  if (digest) return { type: 'pushed', tag: digest[1], digest: digest[2], size: Number(digest[3]) };
  const layer = LAYER.exec(line.trim());
  if (layer) return { type: 'layer', layer: layer[1], status: layer[2] };
  return undefined;
}
