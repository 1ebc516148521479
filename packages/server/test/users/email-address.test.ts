import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { domainToASCII, fileURLToPath } from 'node:url';
import { normalizeEmail } from '../../src/users/email-address.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { listenUpstreamIdp, type UpstreamIdp, upstreamLogin } from '../helpers/upstream-idp.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

test('SR-17 normalizeEmail: trim, NFKC, lower case, IDNA; the Unicode pitfalls are refused or kept apart', () => {
  const ok = (input: string, email: string) => assert.deepEqual(normalizeEmail(input), { ok: true, email }, JSON.stringify(input));
  const refused = (input: string, reason: RegExp) => {
    const result = normalizeEmail(input);
    assert.equal(result.ok, false, JSON.stringify(input));
    assert.match((result as { reason: string }).reason, reason, JSON.stringify(input));
  };
  ok('  Kate@Example.COM \t', 'kate@example.com');
  ok('kate@example.com\u00A0\u3000', 'kate@example.com');
  refused('\u212Aate@example.com', /compatibility characters \(U\+212A\)/); // Kelvin sign: NFKC would fold it onto kate@
  refused('kate@\u212Aexample.com', /U\+212A/);
  refused('\uFF4Bate@example.com', /U\+FF4B/); // fullwidth k
  refused('ka\u200Bte@example.com', /invisible.*U\+200B/); // zero-width space
  refused('kate\u200D@example.com', /U\+200D/); // zero-width joiner
  refused('kate@exam\u00ADple.com', /U\+00AD/); // soft hyphen
  refused('ka\uFEFFte@example.com', /U\+FEFF/); // BOM inside (around it, trim removes it)
  refused('ka te@example.com', /U\+0020/);
  ok('k\u0131m@example.com', 'k\u0131m@example.com'); // dotless ı stays itself: never upper-cased onto KIM
  assert.notEqual((normalizeEmail('K\u0130M@example.com') as { email: string }).email, 'kim@example.com'); // İ → i + U+0307
  ok('kate@ex\u0430mple.com', `kate@${domainToASCII('ex\u0430mple.com')}`); // Cyrillic а: another domain, in ASCII
  assert.equal(domainToASCII('ex\u0430mple.com'), 'xn--exmple-4nf.com');
  ok('kim@B\u00FCcher.de', 'kim@xn--bcher-kva.de');
  for (const bad of ['', 'kate', '@example.com', 'kate@', 'kate@localhost', 'a..b@example.com', '"a"@example.com', 'kate@-x.com', 'kate@example.com.']) refused(bad, /./);
});

const cli = fileURLToPath(new URL('../../bin/run-cli.ts', import.meta.url));

/** The same normal form wherever an address enters: upstream login, password login, the admin API and the CLI. */
forEachStore('SR-17 e-mail addresses are normalised the same way everywhere', (fixture) => {
  let idp: UpstreamIdp;
  let server: TestServer;
  let kate: string;
  let kim: string;
  const upstreamEmails: Record<string, string> = {
    kelvin: '\u212Aate@example.com',
    spaces: ' KATE@Example.com  ',
    zerowidth: 'ka\u200Bte@example.com',
    lookalike: 'kate@ex\u0430mple.com',
    dotless: 'k\u0131m@example.com',
  };

  before(async () => {
    idp = await listenUpstreamIdp();
    server = await startTestServer(fixture, {
      upstreamProviders: [
        { id: 'trusted', name: 'Trusted IdP', issuer: idp.issuer, clientId: 'mandate', clientSecret: 'upstream-secret', scopes: ['openid', 'email', 'profile'], linkByVerifiedEmail: true, provision: true },
      ],
    });
    idp.serve([`${server.issuer}/login/upstream/trusted/callback`], (id) => ({ email: upstreamEmails[id], email_verified: true, name: `Upstream ${id}` }));
    kate = await createUser(server, 'kate@example.com');
    kim = await createUser(server, 'kim@example.com');
  });
  after(async () => {
    await server.close();
    await idp.close();
  });

  /** Logs in upstream as `login` and returns the account the session belongs to. */
  async function accountAfterUpstreamLogin(login: string): Promise<{ id: string; email: string | null }> {
    const response = await upstreamLogin(server, idp.issuer, new Browser(), 'trusted', login);
    assert.equal(response.headers.get('location'), '/account', `${login} did not sign in`);
    const events = (await (await server.admin('GET', `/audit?event=login.succeeded&limit=1`)).json()) as { events: { subject: string }[] };
    const user = (await server.store.getUser(events.events[0]!.subject))!;
    return { id: user.id, email: user.email };
  }

  test('SR-17 an upstream address with the Kelvin sign, a zero-width space or a look-alike domain links to no local account', async () => {
    for (const login of ['kelvin', 'zerowidth', 'lookalike']) {
      const account = await accountAfterUpstreamLogin(login);
      assert.notEqual(account.id, kate, `${login} was linked to kate@example.com`);
    }
    assert.deepEqual(await server.store.listIdentities(kate), []);
    const users = (await (await server.admin('GET', '/users')).json()) as { users: { email: string | null }[] };
    const emails = users.users.map((u) => u.email);
    // Invisible and compatibility characters are dropped, not stored; the look-alike domain is kept apart, in ASCII.
    assert.ok(emails.includes('kate@xn--exmple-4nf.com'), emails.join(', '));
    for (const email of emails) assert.ok(email === null || normalizeEmail(email).ok, `stored ${JSON.stringify(email)}`);
    assert.ok(!emails.some((e) => e !== null && /[\u212A\u200B]/.test(e)));
  });

  test('SR-17 dotless i stays apart; surrounding spaces and case are the same address (exact normalised match)', async () => {
    const dotless = await accountAfterUpstreamLogin('dotless');
    assert.notEqual(dotless.id, kim);
    assert.equal(dotless.email, 'k\u0131m@example.com');
    const spaced = await accountAfterUpstreamLogin('spaces');
    assert.equal(spaced.id, kate, 'the trusted provider verified kate@example.com');
    assert.equal((await server.store.listIdentities(kate)).length, 1);
  });

  test('SR-17 password login, the admin API and the CLI use the same normal form', async () => {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login?return_to=%2Faccount`)).text();
    const login = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: '/account', email: '  KATE@EXAMPLE.com ', password: PASSWORD });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/account');

    const kelvinLogin = new Browser();
    const page2 = await (await kelvinLogin.fetch(`${server.issuer}/login`)).text();
    const refused = await kelvinLogin.postForm(`${server.issuer}/login`, { csrf: inputValue(page2, 'csrf'), return_to: '/account', email: '\u212Aate@example.com', password: PASSWORD });
    assert.equal(refused.status, 401, 'the Kelvin sign does not name kate');

    for (const email of ['\u212Aate@example.com', 'ka\u200Bte@example.com', 'kate@example.com\u200B']) {
      const response = await server.admin('POST', '/users', { email, password: PASSWORD });
      assert.equal(response.status, 400, JSON.stringify(email));
      assert.match(await response.text(), /email/);
    }
    const duplicate = await server.admin('POST', '/users', { email: ' Kate@Example.COM ', password: PASSWORD });
    assert.equal(duplicate.status, 409);
    const idn = await server.admin('POST', '/users', { email: 'ida@B\u00FCcher.de', password: PASSWORD });
    assert.equal(idn.status, 201);
    assert.equal(((await idn.json()) as { email: string }).email, 'ida@xn--bcher-kva.de');
    const shown = await server.admin('GET', `/users/${encodeURIComponent('IDA@bücher.de')}`);
    assert.equal(shown.status, 200);

    const env = { ...process.env, MANDATE_KEK: server.config.keys.kek!, MANDATE_LOG_LEVEL: 'silent' };
    const created = spawnSync(process.execPath, [cli, 'user', 'create', '--email', '\u212Aate@example.com', '--db', fixture.url], { input: `${PASSWORD}\n`, encoding: 'utf8', env });
    assert.equal(created.status, 1);
    assert.match(created.stderr, /U\+212A/);
    assert.doesNotMatch(created.stderr, /\n\s+at /, 'no stack trace');
    const show = spawnSync(process.execPath, [cli, 'user', 'show', ' KATE@example.com', '--json', '--db', fixture.url], { encoding: 'utf8', env });
    assert.equal(show.status, 0, show.stderr);
    assert.equal((JSON.parse(show.stdout) as { id: string }).id, kate);
  });
});
