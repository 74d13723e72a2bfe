// `kamal-dev worker` as its own process with fake activities (the real ones are wired by the lead).
import { main } from '../../src/cli/main';
import { fakeActivities } from './fakeActivities';

const [projectDir] = process.argv.slice(2);
main(['node', 'kamal-dev', '-C', projectDir, 'worker'], { activities: () => fakeActivities().activities }).then((code) => {
  process.exitCode = code;
});
