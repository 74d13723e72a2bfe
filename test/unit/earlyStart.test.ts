import { earlyDocument, startableEarly } from '../../src/remote/earlyStart';

const db = { image: 'postgres:16', volumes: [{ type: 'volume', source: 'postgres-data', target: '/var/lib/postgresql/data' }] };

describe('services that start before the rest of the stack', () => {
  it('an unbuilt service with a named volume starts early; the built one does not', () => {
    const compose = { services: { app: { build: { context: '.' }, depends_on: { db: { condition: 'service_healthy' } } }, db } };
    expect(startableEarly(compose, ['db'])).toEqual(['db']);
  });

  it('anything from the stack folder waits for the swap: env files, bind mounts, secrets, configs', () => {
    const compose = {
      services: {
        withEnvFile: { image: 'x', env_file: ['/opt/kamal-dev/p/env/x.env'] },
        withBind: { image: 'x', volumes: [{ type: 'bind', source: '/opt/kamal-dev/p/init.sql', target: '/init.sql' }] },
        withShortBind: { image: 'x', volumes: ['./init.sql:/init.sql'] },
        withSecret: { image: 'x', secrets: ['token'] },
        withConfig: { image: 'x', configs: ['conf'] },
        withShortVolume: { image: 'x', volumes: ['data:/data'] },
      },
    };
    expect(startableEarly(compose, Object.keys(compose.services))).toEqual(['withShortVolume']);
  });

  it('a service tied to another container (volumes_from, links, network_mode) waits for the whole stack', () => {
    const compose = { services: { a: { image: 'x', volumes_from: ['db'] }, b: { image: 'x', links: ['db'] }, c: { image: 'x', network_mode: 'service:db' }, d: { image: 'x', network_mode: 'host' }, db } };
    expect(startableEarly(compose, ['a', 'b', 'c', 'd', 'db'])).toEqual(['d', 'db']);
  });

  it('a service behind a profile is left to the profile', () => {
    expect(startableEarly({ services: { db: { ...db, profiles: ['debug'] } } }, ['db'])).toEqual([]);
  });

  it('a dependency that cannot start early holds back every service that needs it, however deep', () => {
    const compose = {
      services: {
        app: { build: { context: '.' } },
        cache: { image: 'redis', depends_on: ['app'] },
        worker: { image: 'w', depends_on: { cache: { condition: 'service_started' } } },
        db,
        replica: { image: 'postgres:16', depends_on: ['db'] },
      },
    };
    expect(startableEarly(compose, ['cache', 'worker', 'db', 'replica'])).toEqual(['db', 'replica']);
  });

  it('a dependency that is not among the pulled services holds it back too', () => {
    expect(startableEarly({ services: { db, replica: { image: 'p', depends_on: ['db'] } } }, ['replica'])).toEqual([]);
  });

  it('the early compose document holds only those services, with the volumes and networks', () => {
    const compose = { name: 'p', services: { app: { build: {} }, db }, volumes: { 'postgres-data': {} }, networks: { default: {} }, secrets: { token: {} } };
    expect(earlyDocument(compose, ['db'])).toEqual({ name: 'p', services: { db }, volumes: { 'postgres-data': {} }, networks: { default: {} } });
  });
});
