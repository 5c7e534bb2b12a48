/** Which firehose URLs an org may set: https to an allowed Cisco Spaces host, plain http only to an allowed loopback host. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firehoseUrlProblem } from './firehose.ts';

const DEFAULT = ['*.ciscospaces.io', '*.dnaspaces.eu'];
const PATH = '/api/partners/v1/firehose/events';

test('allows https to a listed host or a subdomain of a *. pattern', () => {
  assert.equal(firehoseUrlProblem(`https://partners.ciscospaces.io${PATH}`, DEFAULT), undefined);
  assert.equal(firehoseUrlProblem(`https://partners.dnaspaces.eu${PATH}`, DEFAULT), undefined);
  assert.equal(firehoseUrlProblem(`https://spaces.internal${PATH}`, ['spaces.internal']), undefined);
});

test('refuses other hosts, look-alikes, plain http off loopback, credentials and queries', () => {
  assert.match(firehoseUrlProblem(`https://evilciscospaces.io${PATH}`, DEFAULT)!, /spacesFirehoseHosts/);
  assert.match(firehoseUrlProblem(`https://ciscospaces.io.example${PATH}`, DEFAULT)!, /spacesFirehoseHosts/);
  assert.match(firehoseUrlProblem(`https://169.254.169.254/latest`, DEFAULT)!, /spacesFirehoseHosts/);
  assert.match(firehoseUrlProblem(`http://partners.ciscospaces.io${PATH}`, DEFAULT)!, /https/);
  assert.match(firehoseUrlProblem(`https://user:pw@partners.ciscospaces.io${PATH}`, DEFAULT)!, /credentials/);
  assert.match(firehoseUrlProblem(`https://partners.ciscospaces.io${PATH}?apiKey=x`, DEFAULT)!, /query/);
  assert.match(firehoseUrlProblem('ftp://partners.ciscospaces.io/', DEFAULT)!, /https/);
  assert.match(firehoseUrlProblem('not a url', DEFAULT)!, /not a URL/);
});

test('plain http only to a loopback host the operator listed (a local relay, tests)', () => {
  assert.equal(firehoseUrlProblem(`http://127.0.0.1:8443${PATH}`, ['127.0.0.1']), undefined);
  assert.match(firehoseUrlProblem(`http://127.0.0.1:8443${PATH}`, DEFAULT)!, /spacesFirehoseHosts/);
  assert.match(firehoseUrlProblem(`http://relay.lan${PATH}`, ['relay.lan'])!, /https/);
});
