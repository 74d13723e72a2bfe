// A Jest reporter (plain JavaScript: Jest loads reporters without its transform). A run of more than
// one heavy file ends with its slowest files and tests, so the suite's time budget (README: under
// 45 minutes) is watched from every CI log rather than guessed.
const { relative } = require('node:path');

const SHOWN = 6;

class DurationReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    if (results.testResults.length < 2) return;
    const files = results.testResults
      .map((file) => ({ name: relative(this.rootDir, file.testFilePath), ms: file.perfStats.end - file.perfStats.start }))
      .sort((a, b) => b.ms - a.ms);
    if (files[0].ms < 30_000) return;
    const tests = results.testResults
      .flatMap((file) => file.testResults.map((test) => ({ name: `${relative(this.rootDir, file.testFilePath)} › ${test.title}`, ms: test.duration ?? 0 })))
      .sort((a, b) => b.ms - a.ms);
    const lines = (rows) => rows.slice(0, SHOWN).map((row) => `  ${(row.ms / 1000).toFixed(0).padStart(5)} s  ${row.name}`).join('\n');
    process.stderr.write(`Slowest files:\n${lines(files)}\nSlowest tests:\n${lines(tests)}\n`);
  }
}

module.exports = DurationReporter;
