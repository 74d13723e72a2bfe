// `kamal-dev deploy` as its own process, with fake activities that take a while, for Ctrl-C tests.
import { main } from '../../src/cli/main';
import { fakeActivities } from './fakeActivities';
import { fakePlanner } from './fakePlan';

const [projectDir, ...args] = process.argv.slice(2);
main(['node', 'kamal-dev', '-C', projectDir, 'deploy', ...args], { activities: () => fakeActivities({ delay: () => 300 }).activities, plan: fakePlanner, pollIntervalMs: 200 }).then((code) => {
  process.exitCode = code;
});
