/**
 * The one place a remote command line is made from argv. sshd hands the command to the remote
 * user's shell, so every argument is quoted for a POSIX shell: inside single quotes nothing is
 * special except the single quote itself, which is closed, escaped and reopened.
 */
const SAFE = /^[A-Za-z0-9_\/.,:=@%+-]+$/;

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('a remote command argument cannot contain a NUL byte');
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv -> the command line sent over SSH. `sudo` prefixes a non-interactive sudo for non-root users. */
export function remoteCommandLine(argv: string[], options: { sudo?: boolean } = {}): string {
  if (argv.length === 0) throw new Error('empty remote command');
  const full = options.sudo ? ['sudo', '-n', '--', ...argv] : argv;
  return full.map(quoteArg).join(' ');
}
