/** argv for the image commands a build and push need; pure, so tests assert them exactly. */

export function imageInspectArgv(ref: string, format = '{{.Id}}'): string[] {
  return ['docker', 'image', 'inspect', '--format', format, ref];
}

/** Every image (dangling ones too) carrying this label, as ids. */
export function imagesByLabelArgv(label: string, value: string): string[] {
  return ['docker', 'image', 'ls', '--all', '--quiet', '--no-trunc', '--filter', `label=${label}=${value}`];
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

/** Removes images by id together with every name they carry. */
export function removeImagesArgv(ids: string[]): string[] {
  return ['docker', 'image', 'rm', '--force', ...ids];
}

export function saveArgv(ref: string, output: string): string[] {
  return ['docker', 'image', 'save', '--output', output, ref];
}
