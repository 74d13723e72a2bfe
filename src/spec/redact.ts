/** Every print and log path passes text through here with the secret values it may contain. */
export const REDACTED = '[REDACTED]';

export function redact(text: string, secretValues: Iterable<string>): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const values = [...secretValues].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join(REDACTED);
  return out;
}
