/** argv for the image commands a build and push need; pure, so tests assert them exactly. */

export function imageInspectArgv(ref: string, format = '{{.Id}}'): string[] {
  return ['docker', 'image', 'inspect', '--format', format, ref];
}

export function tagArgv(source: string, target: string): string[] {
  return ['docker', 'tag', source, target];
}

export function pushArgv(ref: string): string[] {
  return ['docker', 'push', ref];
}

export function pullArgv(ref: string): string[] {
  return ['docker', 'pull', ref];
}

/** Without --force: removes one name; the image itself goes only when no other name holds it. */
export function untagArgv(ref: string): string[] {
  return ['docker', 'image', 'rm', ref];
}

export function saveArgv(ref: string, output: string): string[] {
  return ['docker', 'image', 'save', '--output', output, ref];
}
