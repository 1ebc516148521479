import { createTestDatabase } from './packages/server/test/helpers/stores.ts';
import { openStore } from './packages/server/src/store/open-store.ts';
import { buildWorld } from './packages/server/test/fuzz/fuzz-world.ts';
import { send } from './packages/server/test/fuzz/fuzz-harness.ts';
import { basicAuth } from './packages/server/test/helpers/server.ts';
for (const dialect of ['sqlite', 'postgres'] as const) {
const db = await createTestDatabase(dialect);
const s = await openStore(db.url); await s.migrate(); await s.close();
const w = await buildWorld({ url: db.url });
const auth = basicAuth(w.agent.clientId, w.agent.clientSecret);
const admin = `Bearer ${w.server.adminToken}`;
const probes: [string, string, Record<string, string>, string | Buffer | undefined][] = [
  ['POST', '/token', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip', authorization: auth }, 'garbage'],
  ['POST', '/token', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'deflate', authorization: auth }, 'grant_type=client_credentials'],
  ['POST', '/token', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16', authorization: auth }, Buffer.from('grant_type=client_credentials', 'utf16le')],
  ['POST', '/register', { 'content-type': 'application/json', 'content-encoding': 'br' }, '{}'],
  ['POST', '/register', { 'content-type': 'application/json; charset=latin1' }, '{"redirect_uris":["https://a.example/cb"],"client_name":"\xe9"}'],
  ['POST', '/admin/v1/agents', { 'content-type': 'application/json', authorization: admin }, '{"name":"x","access_token_ttl_seconds":2147483648}'],
  ['POST', '/admin/v1/agents', { 'content-type': 'application/json', authorization: admin }, '{"name":"x","access_token_ttl_seconds":1e308}'],
  ['POST', '/admin/v1/resources', { 'content-type': 'application/json', authorization: admin }, '{"resource":"https://r.example/mcp","scopes":["a"],"access_token_ttl_seconds":2147483647}'],
  ['GET', '/admin/v1/audit?limit=99999999999999999999', { authorization: admin }, undefined],
  ['GET', '/admin/v1/audit?since=99999999999999999999&until=-99999999999999', { authorization: admin }, undefined],
  ['GET', '/admin/v1/audit?since=2147483648', { authorization: admin }, undefined],
  ['GET', '/admin/v1/grants?limit=1e400', { authorization: admin }, undefined],
  ['GET', '/admin/v1/agents?limit=9223372036854775808&cursor=%00', { authorization: admin }, undefined],
  ['GET', '/admin/v1/audit?limit=9223372036854775807', { authorization: admin }, undefined],
  ['GET', '/admin/v1/audit?after=9223372036854775808', { authorization: admin }, undefined],
  ['GET', '/admin/v1/audit?before_seq=9223372036854775808', { authorization: admin }, undefined],
  ['POST', '/bc-authorize', { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, `scope=openid+calc&login_hint=${encodeURIComponent(w.app.email)}&requested_expiry=9999999999999`],
  ['POST', '/bc-authorize', { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, `scope=openid+calc&login_hint=${encodeURIComponent(w.app.email)}&requested_expiry=2147483648`],
  ['GET', `/authorize?response_type=code&client_id=${w.app.clientId}&redirect_uri=https://app.example.com/callback&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256&scope=calc&max_age=99999999999999999999`, {}, undefined],
  ['GET', `/authorize?response_type=code&client_id=${w.app.clientId}&redirect_uri=https://app.example.com/callback&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256&scope=calc&max_age=2147483648`, {}, undefined],
  ['GET', '/admin/v1/audit/' + '9'.repeat(30), { authorization: admin }, undefined],
  ['GET', '/admin/v1/grants/%00', { authorization: admin }, undefined],
  ['GET', '/device?user_code=' + '%ED%A0%80', {}, undefined],
  ['POST', '/device/decision', { 'content-type': 'application/x-www-form-urlencoded' }, 'user_code=%00&csrf=x'],
  ['GET', '/.well-known/oauth-authorization-server/%00', {}, undefined],
  ['GET', '/.well-known/oauth-protected-resource/%ED%A0%80', {}, undefined],
  ['GET', '/revocation-events?since=99999999999999999999', { authorization: `Bearer ${w.apiKey}` }, undefined],
  ['GET', '/revocation-events?after=-1&limit=1e400', { authorization: `Bearer ${w.apiKey}` }, undefined],
];
for (const [method, path, headers, body] of probes) {
  const r = await Promise.race([send(w.server.issuer, { method, path, headers, body }), new Promise<{status:number;body:string}>((res) => setTimeout(() => res({ status: -1, body: 'TIMEOUT' }), 5000))]);
  console.log(dialect, r.status, method, path.slice(0, 90), r.body.slice(0, 140).replace(/\n/g, ' '));
}
await db.drop().catch(() => {});
}

process.exit(0);
