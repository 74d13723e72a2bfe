import { readdirSync, readFileSync } from 'node:fs';

export interface RssPeak {
  /** VmHWM of the process itself: the kernel's own peak, nothing missed between samples. */
  processMb: number;
  /** Highest sampled sum of VmRSS over the process and its descendants (docker CLI, tar). */
  treeMb: number;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // gone between listing and reading
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the parent pid follows the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) for (const child of children.get(queue.shift()!) ?? []) found.push(child), queue.push(child);
  return found;
}

/** Samples a process (and its children) until stop() is called; stop() returns the peaks. */
export function sampleRss(pid: number, intervalMs = 250): { stop(): RssPeak } {
  let processKb = 0;
  let treeKb = 0;
  const sample = () => {
    processKb = Math.max(processKb, statusKb(pid, 'VmHWM'));
    const tree = [pid, ...descendants(pid)].reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0);
    treeKb = Math.max(treeKb, tree);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { processMb: processKb / 1024, treeMb: treeKb / 1024 };
    },
  };
}
