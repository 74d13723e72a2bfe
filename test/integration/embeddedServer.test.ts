import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { embeddedServerStatus, startEmbeddedServer, stopEmbeddedServer } from '../../src/client/embedded';
import { describeWithLab } from '../support/lab';

jest.setTimeout(120_000);

// Ports of its own, so it never meets the lab's server or a user's 7233.
const PORT = 17310;
const UI_PORT = 17311;

describeWithLab(['temporal'], 'embedded Temporal dev server', () => {
  const projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-embedded-'));
  afterAll(() => stopEmbeddedServer(projectDir));

  it('starts detached with SQLite under .kamal/temporal and the search attributes, reports status, stops', async () => {
    expect((await embeddedServerStatus(projectDir, PORT, UI_PORT)).running).toBe(false);
    const started = await startEmbeddedServer({ projectDir, port: PORT, uiPort: UI_PORT });
    expect(started).toMatchObject({ running: true, address: `127.0.0.1:${PORT}`, dbFile: join(projectDir, '.kamal', 'temporal', 'temporal.db') });

    const connection = await Connection.connect({ address: started.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['KamalDevService', 'KamalDevPhase']));
    } finally {
      await connection.close();
    }

    expect(await stopEmbeddedServer(projectDir)).toBe(true);
    expect((await embeddedServerStatus(projectDir, PORT, UI_PORT)).running).toBe(false);
    expect(await stopEmbeddedServer(projectDir)).toBe(false);
  });
});
