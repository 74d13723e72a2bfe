/**
 * The images a Dockerfile builds on (FROM, COPY --from, RUN --mount from=), read the way BuildKit
 * reads them: build args and the ARG defaults before the first FROM fill `$NAME`, `${NAME}` and
 * `${NAME:-default}`; `scratch` and earlier stages are no images. The build key needs them, since an
 * image of the same name may hold something else tomorrow.
 *
 * When the Dockerfile reads something the build key cannot pin down (a URL or git source of ADD, a
 * `# syntax=` frontend, a name it cannot resolve), `unkeyed` says what, and the build always runs.
 */
export type DockerfileRefs = { images: string[] } | { unkeyed: string };

export function dockerfileRefs(text: string, buildArgs: Record<string, string>): DockerfileRefs {
  if (/^#\s*syntax\s*=/im.test(text.split('\n').find((line) => line.trim() !== '') ?? '')) return { unkeyed: 'a `# syntax=` frontend' };
  const globalArgs: Record<string, string> = {};
  const stages: string[] = [];
  const images = new Set<string>();
  let sawFrom = false;
  for (const [instruction, rest] of instructions(text)) {
    if (instruction === 'ARG' && !sawFrom) {
      // Build args reach FROM only through an ARG declared before the first FROM.
      for (const [name, value] of argDefaults(rest)) globalArgs[name] = buildArgs[name] ?? value ?? '';
    } else if (instruction === 'FROM') {
      sawFrom = true;
      const [ref, , alias] = rest.split(/\s+/).filter((word) => !word.startsWith('--'));
      const image = expand(ref ?? '', globalArgs);
      if (image === undefined) return { unkeyed: `FROM ${ref}` };
      if (image !== 'scratch' && !stages.includes(image.toLowerCase())) images.add(image);
      stages.push((alias ?? String(stages.length)).toLowerCase());
    } else if (instruction === 'ADD' && /(^|\s)(https?:\/\/|git@|git:\/\/)/.test(rest)) {
      return { unkeyed: `ADD ${rest.split(/\s+/)[0]}` };
    } else if (instruction === 'COPY' || instruction === 'RUN') {
      for (const [, from] of rest.matchAll(/(?:--from=|[\s,]from=)([^\s,]+)/g)) {
        if (/^\d+$/.test(from) || stages.includes(from.toLowerCase())) continue;
        if (from.includes('$')) return { unkeyed: `--from=${from}` };
        images.add(from);
      }
    }
  }
  return { images: [...images] };
}

function* instructions(text: string): Generator<[string, string]> {
  let pending = '';
  for (const raw of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(raw)) continue;
    const line = raw.replace(/\r$/, '');
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, ' ');
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^(\w+)\s*(.*)$/s.exec(whole);
    if (match) yield [match[1].toUpperCase(), match[2].trim()];
  }
}

function argDefaults(rest: string): [string, string | undefined][] {
  return rest.split(/\s+/).filter(Boolean).map((word) => {
    const eq = word.indexOf('=');
    return eq < 0 ? [word, undefined] : [word.slice(0, eq), word.slice(eq + 1).replace(/^"(.*)"$/, '$1')];
  });
}

/** `$NAME`, `${NAME}`, `${NAME:-default}`; undefined when a name has no value at all. */
function expand(ref: string, args: Record<string, string>): string | undefined {
  let unresolved = false;
  const value = ref.replace(/\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)/g, (_, braced: string, fallback: string | undefined, bare: string) => {
    const name = braced ?? bare;
    const found = args[name] || fallback;
    if (found === undefined) unresolved = true;
    return found ?? '';
  });
  return unresolved || value === '' ? undefined : value;
}
