import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStoreUnavailable, unavailableReason } from '../../src/store/sql/unavailable.ts';

/**
 * Which driver errors mean "the database cannot serve this now" (answered 503 with Retry-After), and which are bugs or
 * bad input (500, 400, 409). The fault-injection tests (test/faults/) raise the common ones for real; this names the rest.
 */

const pgError = (code: string, message = 'pg') => Object.assign(new Error(message), { code });
const sqliteError = (errcode: number, errstr: string) => Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });

test('FAULT-classify connection loss, failover, full disk, locks, serialization failures are unavailable', () => {
  for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53100', '53300', '40001', '40P01']) assert.equal(isStoreUnavailable(pgError(code)), true, code);
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) assert.equal(isStoreUnavailable(pgError(code)), true, code);
  assert.equal(isStoreUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isStoreUnavailable(new Error('timeout exceeded when trying to connect')), true);
  assert.equal(isStoreUnavailable(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')])), true, 'both addresses refused');
  assert.equal(isStoreUnavailable(sqliteError(5, 'database is locked')), true);
  assert.equal(isStoreUnavailable(sqliteError(517, 'database is locked')), true, 'SQLITE_BUSY_SNAPSHOT: the low byte is BUSY');
  assert.equal(isStoreUnavailable(sqliteError(13, 'database or disk is full')), true);
  assert.equal(isStoreUnavailable(sqliteError(8, 'attempt to write a readonly database')), true);
  assert.equal(isStoreUnavailable(sqliteError(3338, 'disk I/O error')), true, 'SQLITE_IOERR_WRITE');
});

test('FAULT-classify bugs and bad input are not: syntax errors, constraint violations, corruption, anything else', () => {
  for (const code of ['42601', '42P01', '23505', '23503', '22021', 'XX000']) assert.equal(isStoreUnavailable(pgError(code)), false, code);
  assert.equal(isStoreUnavailable(sqliteError(1, 'no such table: x')), false);
  assert.equal(isStoreUnavailable(sqliteError(2067, 'UNIQUE constraint failed')), false);
  assert.equal(isStoreUnavailable(sqliteError(11, 'database disk image is malformed')), false, 'corruption is not retried');
  assert.equal(isStoreUnavailable(new TypeError('x is not a function')), false);
  assert.equal(isStoreUnavailable(null), false);
});

test('FAULT-classify the reason is one line of the driver\'s own words', () => {
  assert.equal(unavailableReason(sqliteError(5, 'database is locked')), 'database is locked');
  assert.equal(unavailableReason(new AggregateError([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })])), 'connect ECONNREFUSED 127.0.0.1:5432');
  assert.equal(unavailableReason(pgError('57P01', 'terminating connection due to administrator command\nmore')), 'terminating connection due to administrator command');
});
