// `npm run lab -- up|down|status`: the same lab the test suites use, for working by hand.
import { bringUp, readLabState, tearDown } from './lab';
import { allParts } from './parts';

async function main(command = 'status'): Promise<void> {
  const log = (line: string) => console.log(line);
  if (command === 'up') await bringUp(allParts, log);
  else if (command === 'down') await tearDown(allParts, log, true);
  else console.log(JSON.stringify(readLabState(), null, 2));
}

main(process.argv[2]).catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
