/**
 * "The peer": PostGraphile 4 over the same tables, the usual off-the-shelf way to put an API on
 * a PostgreSQL schema. Default inflection, no auth, no status rules (the client would compute
 * them): the GraphQL queries in bench/run.ts ask for the same rows the REST answers are built from.
 *
 *   DATABASE_URL=... PORT=3102 POOL_MAX=10 tsx bench/peer-server.ts
 */
import http from 'node:http';
import pg from 'pg';
import { postgraphile } from 'postgraphile';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });

const middleware = postgraphile(pool, 'public', {
  graphqlRoute: '/graphql',
  graphiql: false,
  disableQueryLog: true,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  retryOnInitFail: false,
  // A plain server: no persisted-query or introspection conveniences in the hot path.
  enableQueryBatching: false,
});

const server = http.createServer((req, res) => {
  if (req.url === '/health/ready') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  void middleware(req, res);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 3102), '127.0.0.1', () => console.log('peer server ready'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end();
});
