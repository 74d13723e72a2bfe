import { KamalDevError } from '../errors';

/**
 * Bootstrap of a VM as fixed shell scripts (nothing user-supplied is interpolated): a read-only
 * probe, then an install of only what the probe found missing, then an engine start. Re-running
 * after success finds everything present and changes nothing.
 */
export const PROBE_SCRIPT = [
  '. /etc/os-release 2>/dev/null || true',
  'echo "os_id=${ID:-}"',
  'echo "os_codename=${VERSION_CODENAME:-}"',
  // At once: each starts a Docker client (compose its plugin too), 40-100 ms apiece on a small VM. Each
  // line is one short write, so the lines never interleave; their order does not matter.
  'echo "docker=$(command -v dockerd >/dev/null && docker --version 2>/dev/null | sed -E \'s/^Docker version ([^,]+).*/\\1/\')" &',
  'echo "compose=$(docker compose version --short 2>/dev/null)" &',
  'echo "engine=$(docker info --format \'{{.ServerVersion}}\' 2>/dev/null)" &',
  'wait',
].join('\n');

export interface ProbeResult {
  osId: string;
  codename: string;
  /** Empty when absent. */
  docker: string;
  compose: string;
  /** The running engine's version; empty when it is not running. */
  engine: string;
}

export function parseProbe(stdout: string): ProbeResult {
  const values = new Map(stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  return {
    osId: values.get('os_id') ?? '',
    codename: values.get('os_codename') ?? '',
    docker: values.get('docker') ?? '',
    compose: values.get('compose') ?? '',
    engine: values.get('engine') ?? '',
  };
}

// A bootstrap retried after its worker died may find the first attempt's apt-get still running on
// the VM: apt waits for that one's lock instead of failing at once.
const APT_PREAMBLE = [
  'set -eu',
  'export DEBIAN_FRONTEND=noninteractive',
  'apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }',
  'apt_install() { apt_get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; }',
  // The package descriptions' translations are a third of what an update downloads, and no install reads them.
  'apt_update() { apt_get update -q -o Acquire::Languages=none; }',
];

// bookworm packages Compose v1 only; trixie's Compose v2 needs nothing newer than bookworm's libc.
// Pin-Priority 100 keeps every other package on bookworm.
const TRIXIE_SOURCE = [
  'mirror=$(grep -hoE \'^(deb +|URIs: *)https?://[^ ]+\' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -1 | sed -E \'s/^(deb +|URIs: *)//\')',
  'printf \'Types: deb\\nURIs: %s\\nSuites: trixie\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n\' "${mirror:-http://deb.debian.org/debian}" >/etc/apt/sources.list.d/kamal-dev-trixie.sources',
  'printf \'Package: *\\nPin: release n=trixie\\nPin-Priority: 100\\n\' >/etc/apt/preferences.d/kamal-dev-trixie',
];

/** The install script for this OS and what is missing; an unsupported OS is the user's to change. */
export function installScript(probe: ProbeResult): string {
  const needDocker = probe.docker === '';
  const needCompose = probe.compose === '' || !/^v?2\./.test(probe.compose);
  if (!needDocker && !needCompose) return '';
  const lines = [...APT_PREAMBLE];
  // One apt transaction: dpkg reads its database and runs its triggers once. pigz, which docker.io
  // only recommends: the engine unpacks pulled layers with unpigz when it is there (Postgres on a
  // lab VM: 7.5 s to 6.5 s), in the same transaction for a 60 kB package.
  const install = (compose: string) => `apt_install ${[needDocker && 'docker.io pigz', needCompose && compose].filter(Boolean).join(' ')}`;
  if (probe.osId === 'debian' && probe.codename === 'bookworm') {
    if (needCompose) lines.push(...TRIXIE_SOURCE);
    // `package/trixie` takes that one package from trixie; its dependencies stay on bookworm.
    lines.push('apt_update', install('docker-compose/trixie'));
  } else if (probe.osId === 'debian' && probe.codename !== '' && probe.codename !== 'bullseye' && probe.codename !== 'buster') {
    lines.push('apt_update', install('docker-compose'));
  } else if (probe.osId === 'ubuntu') {
    lines.push('apt_update', install('docker-compose-v2'));
  } else {
    throw new KamalDevError('provider', `cannot install Docker on ${probe.osId || 'an unknown OS'} ${probe.codename}`.trim(), {
      description: 'kamal-dev installs Docker on Debian 12+ and Ubuntu. Use one of those, or install Docker and Compose v2 yourself.',
    });
  }
  return lines.join('\n');
}

/**
 * systemd when it runs; otherwise dockerd directly, detached (local VMs have no init system, and
 * Debian's init script raises `ulimit -n` beyond what a container may).
 */
export const START_ENGINE_SCRIPT = [
  'set -eu',
  'docker info >/dev/null 2>&1 && exit 0',
  'if [ -d /run/systemd/system ]; then systemctl enable --now docker; else setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null & fi',
  // Up to 60 s, asked every 0.2 s: a fresh engine answers within a second.
  'i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -le 300 ] || { echo "dockerd did not start" >&2; tail -20 /var/log/dockerd.log >&2 2>/dev/null; exit 1; }; sleep 0.2; done',
].join('\n');

/**
 * The whole install for a fresh machine of this OS, for cloud-init to run while the server boots
 * (UpCloud user-data); bootstrap's probe then finds it done, or installs what it did not. Undefined
 * for an OS installScript does not know (bootstrap's own error says so later).
 */
export function bootInstallScript(os: { osId: string; codename: string }): string | undefined {
  let install: string;
  try {
    install = installScript({ ...os, docker: '', compose: '', engine: '' });
  } catch {
    return undefined;
  }
  return ['#!/bin/sh', install, START_ENGINE_SCRIPT].join('\n');
}

/**
 * Lets the boot's own install (cloud-init user-data) finish before the probe, so two apt runs never
 * race; a failed or absent cloud-init changes nothing (the probe decides).
 */
export const WAIT_FOR_BOOT_SCRIPT = 'command -v cloud-init >/dev/null 2>&1 || exit 0; timeout 900 cloud-init status --wait >/dev/null 2>&1 || true';

export const shScript = (script: string) => ['sh', '-c', script];
