/** Registry login and how registry failures read in docker's stderr. */

/** The password goes on stdin: argv is visible to every process on the machine. */
export function loginArgv(server: string, username: string): string[] {
  return ['docker', 'login', server, '--username', username, '--password-stdin'];
}

export type RegistryFailure = 'auth' | 'unreachable' | 'server' | 'not-found' | 'unknown';

/** One place that reads docker login/push/pull stderr and says what kind of failure it was. */
export function classifyRegistryError(stderr: string): RegistryFailure {
  const text = stderr.toLowerCase();
  if (/unauthorized|authentication required|denied|incorrect username or password|\b401\b/.test(text)) return 'auth';
  if (/connection refused|connection reset|no such host|i\/o timeout|timeout exceeded|tls handshake timeout|eof$|network is unreachable|dial tcp/m.test(text)) {
    return 'unreachable';
  }
  if (/\b5\d\d\b|internal server error|bad gateway|service unavailable|gateway timeout/.test(text)) return 'server';
  if (/manifest unknown|not found|does not exist|no such image/.test(text)) return 'not-found';
  return 'unknown';
}
