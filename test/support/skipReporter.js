// A Jest reporter (plain JavaScript: Jest loads reporters without its transform). It ends a run that
// skipped tests with one line counting them by reason, and fails the run when a test was skipped
// without one: the suites skip only through describeWithLab / describeWhen (test/support/lab.ts),
// whose suite names carry "[skipped: <why>]".
const { relative } = require('node:path');

const SKIPPED = /\[skipped: (.*)\]$/;
const NOT_RUN = new Set(['pending', 'skipped', 'todo', 'disabled']);

class SkipReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const byReason = new Map();
    const unexplained = [];
    const files = new Set();
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (!NOT_RUN.has(test.status)) continue;
        files.add(file.testFilePath);
        const why = reasonOf(test, this.globalConfig);
        if (why) byReason.set(why, (byReason.get(why) ?? 0) + 1);
        else unexplained.push(`${relative(this.globalConfig.rootDir, file.testFilePath)}: ${test.fullName}`);
      }
    }
    const total = [...byReason.values()].reduce((a, b) => a + b, 0) + unexplained.length;
    if (total === 0) return;
    const reasons = [...byReason].map(([why, n]) => `${n} because ${why}`);
    if (unexplained.length > 0) reasons.push(`${unexplained.length} with no reason given`);
    let report = `Skipped ${total} test(s) in ${files.size} file(s): ${reasons.join('; ')}\n`;
    if (unexplained.length > 0) {
      this.error = new Error(`tests skipped without a reason (skip only through describeWithLab or describeWhen): ${unexplained.join('; ')}`);
      report = `${this.error.message}\n${report}`;
    }
    // Jest prints its summary, coverage and the global teardown after every reporter: written at
    // exit, the count is the run's last line.
    process.once('exit', () => process.stderr.write(report));
  }

  getLastError() {
    return this.error;
  }
}

function reasonOf(test, globalConfig) {
  for (const title of [...test.ancestorTitles, test.title]) {
    const match = SKIPPED.exec(title);
    if (match) return match[1];
  }
  // Left out by the person running jest (-t PATTERN), not by the suite.
  if (globalConfig.testNamePattern) return `-t ${globalConfig.testNamePattern} left them out`;
  return undefined;
}

module.exports = SkipReporter;
