/**
 * Every route × every role × own and foreign tenant. The expectation table below is written by
 * hand, independent of the policies; a route missing from it fails the test, and any success that
 * the table does not allow fails it too. Refusals must be "not found or no access" (404) for a
 * signed-in caller and 401 for nobody, and must not carry the record.
 */
import { test, after } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { makeApp, login, sqliteSetup } from './helpers.ts';
import { startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import { systemCtx } from '../src/privacy/index.ts';
import type { CairnApp } from '../src/app.ts';

type R = 'org_admin' | 'site_admin' | 'privacy_officer' | 'observer' | 'sensor' | 'support';
const ROLES: (R | 'anonymous')[] = ['org_admin', 'site_admin', 'privacy_officer', 'observer', 'sensor', 'support', 'anonymous'];
const READERS: R[] = ['org_admin', 'site_admin', 'privacy_officer', 'observer', 'support'];

/**
 * Routes anyone may call, signed in or not. The vendor webhooks are here too: they take no session
 * or token but authenticate by their own proof (Mist's body signature, Meraki's shared secret);
 * test/ingest.test.ts shows a wrong one refused with CAIRN_ERR_SIGNATURE and counted.
 */
/**
 * The guest portal (R-PRIV-5) is public by nature: guests have no account. The splash page (GET)
 * needs only the controller's hand-off; the decision (POST) is accepted only with the form token
 * the page signed with the site's portal secret; the result check (verify) only with a result
 * signed by that secret, once; unsubscribe links only with a token signed by the org's key.
 * test/consent.test.ts shows forged forms, tampered and replayed results and bad tokens refused.
 */
const PORTAL_PUBLIC = ['GET /portal/:orgId/:siteId', 'POST /portal/:orgId/:siteId', 'POST /portal/:orgId/:siteId/verify', 'GET /portal/unsubscribe/:token', 'POST /portal/unsubscribe/:token'];
/**
 * Data-subject requests (R-PRIV-4) are public by nature too: a subject has no account. Intake
 * answers the same whether or not Cairn holds anything about them; every later step needs the
 * status token given at intake (and verification a code or the device's portal session), is
 * limited per address and per subject, and reveals data only once a privacy officer fulfilled a
 * verified request. test/dsar.test.ts shows floods, guessed codes and replays refused.
 */
const DSAR_PUBLIC = ['POST /api/v1/privacy/orgs/:orgId/requests', 'POST /api/v1/privacy/orgs/:orgId/requests/:requestId/verify', 'POST /api/v1/privacy/orgs/:orgId/requests/:requestId/verify-device', 'POST /api/v1/privacy/orgs/:orgId/requests/:requestId/code', 'POST /api/v1/privacy/orgs/:orgId/requests/:requestId/status', 'POST /api/v1/privacy/orgs/:orgId/requests/:requestId/archive', 'GET /privacy/:orgId', 'POST /privacy/:orgId'];
const PUBLIC = new Set(['POST /api/v1/ingest/mist/:orgId', 'GET /api/v1/ingest/meraki/:orgId', 'POST /api/v1/ingest/meraki/:orgId', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /api/v1/auth/login', 'POST /api/v1/auth/logout', 'GET /', 'GET /login', 'GET /assets/:file', 'GET /api/openapi.json', 'GET /api/docs', 'GET /api/docs/*', 'GET /api/docs/json', 'GET /api/docs/yaml', 'GET /api/docs/static/*', 'GET /api/docs/static/index.html', 'GET /api/docs/static/swagger-initializer.js', 'GET /api/v1/threat/notice', ...PORTAL_PUBLIC, ...DSAR_PUBLIC]);
/** Routes any signed-in caller may call; they return only the caller's own view. */
const SELF = new Set(['GET /api/v1/auth/me', 'GET /api/v1/orgs']);

const EXPECT: Record<string, R[]> = {
  'GET /api/v1/orgs/:orgId': READERS,
  'PATCH /api/v1/orgs/:orgId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites': READERS,
  'POST /api/v1/orgs/:orgId/sites': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId': READERS,
  'PATCH /api/v1/orgs/:orgId/sites/:siteId': ['org_admin', 'site_admin'],
  'DELETE /api/v1/orgs/:orgId/sites/:siteId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId/floors': READERS,
  'POST /api/v1/orgs/:orgId/sites/:siteId/floors': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/floors/:floorId': READERS,
  'PATCH /api/v1/orgs/:orgId/floors/:floorId': ['org_admin', 'site_admin'],
  'DELETE /api/v1/orgs/:orgId/floors/:floorId': ['org_admin', 'site_admin'],
  'PUT /api/v1/orgs/:orgId/floors/:floorId/plan': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/floors/:floorId/plan': READERS,
  'GET /api/v1/orgs/:orgId/floors/:floorId/zones': READERS,
  'POST /api/v1/orgs/:orgId/floors/:floorId/zones': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/zones/:zoneId': READERS,
  'PATCH /api/v1/orgs/:orgId/zones/:zoneId': ['org_admin', 'site_admin'],
  'DELETE /api/v1/orgs/:orgId/zones/:zoneId': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/users': ['org_admin', 'support'],
  'POST /api/v1/orgs/:orgId/users': ['org_admin'],
  'GET /api/v1/orgs/:orgId/users/:userId': ['org_admin', 'support'],
  'PATCH /api/v1/orgs/:orgId/users/:userId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/tokens': ['org_admin'],
  'POST /api/v1/orgs/:orgId/tokens': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/tokens/:tokenId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/support-grant': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/support-grant': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/support-grant': ['org_admin'],
  'GET /api/v1/orgs/:orgId/audit': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/audit/verify': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/audit/keys': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/retention': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/retention/:dataClass': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/retention/run': ['org_admin'],
  'POST /api/v1/orgs/:orgId/keys/rotate': ['org_admin'],
  'POST /api/v1/orgs/:orgId/devices': ['org_admin', 'sensor'],
  'GET /api/v1/orgs/:orgId/devices': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/devices/count': ['org_admin', 'privacy_officer', 'observer', 'support'],
  // A device's location history (R-DATA-3): a site admin reads it filtered to its own sites.
  'GET /api/v1/orgs/:orgId/devices/:deviceId/fixes': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/devices/:deviceId/sessions': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/devices/fixes/search': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/devices/sessions/search': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'POST /api/v1/threat/files': ['org_admin', 'sensor'],
  'GET /api/v1/threat/files/:sha256': ['org_admin', 'privacy_officer', 'observer', 'support'],
  'GET /api/v1/threat/files/:sha256/submissions': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/threat/lists': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/threat/lists': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/threat/lists/:entryId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/threat/yara-rules': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/threat/yara-rules': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/threat/yara-rules/:ruleId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/threat/settings': ['org_admin', 'privacy_officer'],
  'PUT /api/v1/orgs/:orgId/threat/settings': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId/sensors': READERS,
  'POST /api/v1/orgs/:orgId/sites/:siteId/sensors': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/sensors/:sensorId': READERS,
  'PATCH /api/v1/orgs/:orgId/sensors/:sensorId': ['org_admin', 'site_admin'],
  'DELETE /api/v1/orgs/:orgId/sensors/:sensorId': ['org_admin', 'site_admin'],
  // Per-sensor MQTT credentials (R-SEC-1): admins of the sensor's site; the org's broker files (password hashes) only org admins.
  'GET /api/v1/orgs/:orgId/sensors/:sensorId/mqtt-credentials': ['org_admin', 'site_admin'],
  'POST /api/v1/orgs/:orgId/sensors/:sensorId/mqtt-credentials': ['org_admin', 'site_admin'],
  'POST /api/v1/orgs/:orgId/sensors/:sensorId/mqtt-credentials/rotate': ['org_admin', 'site_admin'],
  'DELETE /api/v1/orgs/:orgId/sensors/:sensorId/mqtt-credentials': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/mqtt/broker-config': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId/calibration': READERS,
  'PUT /api/v1/orgs/:orgId/sites/:siteId/calibration': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/ingest/settings': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/ingest/settings': ['org_admin'],
  'GET /api/v1/orgs/:orgId/ingest/spaces-firehose': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/ingest/spaces-firehose': ['org_admin'],
  'GET /api/v1/orgs/:orgId/ingest/spaces-firehose/status': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/ingest/observations': ['org_admin', 'sensor'],
  // Any person of the org lists the quarantine (narrowed to mail addressed to them); the fixture
  // message is addressed to nobody with a role, so only org admins reach it.
  'GET /api/v1/orgs/:orgId/threat/quarantine': ['org_admin', 'site_admin', 'privacy_officer', 'observer'],
  'GET /api/v1/orgs/:orgId/threat/quarantine/:messageId': ['org_admin'],
  'POST /api/v1/orgs/:orgId/threat/quarantine/:messageId/release': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/threat/quarantine/:messageId': ['org_admin'],
  'GET /api/v1/orgs/:orgId/threat/email/settings': ['org_admin', 'privacy_officer'],
  'PUT /api/v1/orgs/:orgId/threat/email/settings': ['org_admin'],
  'POST /api/v1/orgs/:orgId/threat/pcaps': ['org_admin', 'sensor'],
  'GET /api/v1/orgs/:orgId/threat/tls': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/threat/tls/clients': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/threat/tls/summary': ['org_admin', 'privacy_officer', 'observer', 'support'],
  // Occupancy (R-LOC-4 aggregates: every site reader); settings and baselines for admins to set;
  // hot-zone alerts (R-CT-1, R-CT-8) for admins, privacy officers and support.
  'GET /api/v1/orgs/:orgId/occupancy/settings': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/occupancy/settings': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId/occupancy': READERS,
  'GET /api/v1/orgs/:orgId/sites/:siteId/occupancy/stream': READERS,
  'GET /api/v1/orgs/:orgId/sites/:siteId/occupancy/history': READERS,
  'GET /api/v1/orgs/:orgId/zones/:zoneId/baseline': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/zones/:zoneId/baseline': ['org_admin', 'site_admin'],
  'POST /api/v1/orgs/:orgId/zones/:zoneId/baseline/learn': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/occupancy/alerts': ['org_admin', 'privacy_officer', 'support'],
  // Delivery channels: org admins manage; privacy officers and support see where data goes.
  'GET /api/v1/orgs/:orgId/delivery/channels': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/delivery/channels': ['org_admin'],
  'GET /api/v1/orgs/:orgId/delivery/channels/:channelId': ['org_admin', 'privacy_officer', 'support'],
  'PATCH /api/v1/orgs/:orgId/delivery/channels/:channelId': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/delivery/channels/:channelId': ['org_admin'],
  'POST /api/v1/orgs/:orgId/delivery/channels/:channelId/test': ['org_admin'],
  'GET /api/v1/orgs/:orgId/delivery/deliveries': ['org_admin', 'privacy_officer', 'support'],
  // Notice and consent (R-PRIV-5): terms are not personal (every reader); admins write them (site
  // admins only their site's, so not these org-wide drafts); portal settings per site; consent
  // records and the marketing audience are personal; the org's app records opt-ins with a sensor token.
  'GET /api/v1/orgs/:orgId/consent/terms': READERS,
  'POST /api/v1/orgs/:orgId/consent/terms': ['org_admin'],
  'GET /api/v1/orgs/:orgId/consent/terms/:termsId': READERS,
  'PUT /api/v1/orgs/:orgId/consent/terms/:termsId': ['org_admin'],
  'POST /api/v1/orgs/:orgId/consent/terms/:termsId/publish': ['org_admin'],
  'GET /api/v1/orgs/:orgId/sites/:siteId/portal': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/sites/:siteId/portal': ['org_admin', 'site_admin'],
  'POST /api/v1/orgs/:orgId/sites/:siteId/portal/secret': ['org_admin', 'site_admin'],
  'GET /api/v1/orgs/:orgId/consent/records': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/consent/records/search': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/consent/marketing': ['org_admin'],
  'POST /api/v1/orgs/:orgId/consent/sdk': ['org_admin', 'sensor'],
  'GET /api/v1/orgs/:orgId/consent/sdk/terms': ['org_admin', 'sensor'],
  // Journeys (R-CT-8): never observers or sensors; a site admin gets the visits at its own sites.
  'GET /api/v1/orgs/:orgId/devices/:deviceId/journey': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/people/:personId/journey': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/journeys/search': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/journeys/settings': ['org_admin', 'site_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/journeys/settings': ['org_admin'],
  // The people directory (R-DATA-11): identities for admins, privacy officers and support; removal also for privacy officers.
  'GET /api/v1/orgs/:orgId/people/settings': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/people/settings': ['org_admin'],
  'GET /api/v1/orgs/:orgId/people': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/people': ['org_admin'],
  'POST /api/v1/orgs/:orgId/people/import': ['org_admin'],
  'GET /api/v1/orgs/:orgId/people/:personId': ['org_admin', 'privacy_officer', 'support'],
  'DELETE /api/v1/orgs/:orgId/people/:personId': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/people/:personId/devices': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/people/:personId/devices/:deviceId': ['org_admin', 'privacy_officer'],
  // Data-subject requests (R-PRIV-4): privacy officers handle them; org admins see the queue
  // (no identifiers) so deadlines are not missed; nobody else, not even support.
  'GET /api/v1/orgs/:orgId/dsar': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar': ['privacy_officer'],
  'GET /api/v1/orgs/:orgId/dsar/:requestId': ['privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar/:requestId/approve': ['privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar/:requestId/reject': ['privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar/:requestId/extend': ['privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar/:requestId/fulfil': ['privacy_officer'],
  'GET /api/v1/orgs/:orgId/dsar/:requestId/archive': ['privacy_officer'],
  'POST /api/v1/orgs/:orgId/dsar/:requestId/lift': ['privacy_officer'],
  // Proximity tracing and case reports (R-CT-8): the tenant's administrators and support under a
  // grant; never site admins (a trace crosses sites), observers or sensors. Badge encounters are ingest.
  'POST /api/v1/orgs/:orgId/contact-traces': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/contact-traces': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/contact-traces/:caseId': ['org_admin', 'privacy_officer', 'support'],
  'DELETE /api/v1/orgs/:orgId/contact-traces/:caseId': ['org_admin', 'privacy_officer'],
  'GET /api/v1/orgs/:orgId/contact-tracing/settings': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/contact-tracing/settings': ['org_admin'],
  'POST /api/v1/ingest/encounters': ['org_admin', 'sensor'],
  // Notices to exposed people (R-CT-3, R-CT-8): org admins draft, approve, send and configure; privacy officers and support read.
  'GET /api/v1/orgs/:orgId/contact-traces/:caseId/notice-candidates': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/notices': ['org_admin'],
  'GET /api/v1/orgs/:orgId/notices': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/notices/settings': ['org_admin', 'privacy_officer', 'support'],
  'PUT /api/v1/orgs/:orgId/notices/settings': ['org_admin'],
  'GET /api/v1/orgs/:orgId/notices/:noticeId': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/notices/:noticeId/approve': ['org_admin'],
  'POST /api/v1/orgs/:orgId/notices/:noticeId/send': ['org_admin'],
  'DELETE /api/v1/orgs/:orgId/notices/:noticeId': ['org_admin'],
  'PUT /api/v1/orgs/:orgId/people/:personId/notice-language': ['org_admin'],
  // Portability (R-PRIV-3): the whole org decrypted, org admins only. Records of processing (GDPR
  // Art. 30): admins and privacy officers read and complete them.
  'POST /api/v1/orgs/:orgId/export': ['org_admin'],
  'GET /api/v1/orgs/:orgId/export': ['org_admin'],
  'GET /api/v1/orgs/:orgId/ropa': ['org_admin', 'privacy_officer'],
  'PUT /api/v1/orgs/:orgId/ropa/controller': ['org_admin', 'privacy_officer'],
  'PUT /api/v1/orgs/:orgId/ropa/activities/:activityId': ['org_admin', 'privacy_officer'],
  // Breach records (R-PRIV-8): admins and privacy officers; the operator (support, under the grant)
  // records, reads and notifies, since it is the one telling the org; only the org updates and closes.
  'POST /api/v1/orgs/:orgId/incidents': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/incidents': ['org_admin', 'privacy_officer', 'support'],
  'GET /api/v1/orgs/:orgId/incidents/:incidentId': ['org_admin', 'privacy_officer', 'support'],
  'PATCH /api/v1/orgs/:orgId/incidents/:incidentId': ['org_admin', 'privacy_officer'],
  'POST /api/v1/orgs/:orgId/incidents/:incidentId/notify': ['org_admin', 'privacy_officer', 'support'],
  'POST /api/v1/orgs/:orgId/incidents/:incidentId/close': ['org_admin', 'privacy_officer'],
};

interface Tenant {
  orgId: string;
  siteId: string;
  floorId: string;
  zoneId: string;
  userId: string;
}

const setup = sqliteSetup();
let c: CairnApp;
let sink: SmtpSink;
const auth: Record<string, Record<string, string>> = {};
const tenants: Record<'own' | 'foreign', Tenant> = {} as never;
let seq = 0;
const sys = systemCtx('test');
/** Terms in English and Dutch, for the consent routes. */
const TERMS_TEXTS = { en: { title: 'Terms', body: 'Be kind.' }, nl: { title: 'Voorwaarden', body: 'Wees aardig.' } };
/** A small capture with one TLS handshake, for the pcap upload route. */
const PCAP = readFileSync(new URL('../../shared/data/ja4/pcap/tls12.pcap', import.meta.url));
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32)]);

async function makeTenant(name: string, country: string): Promise<Tenant> {
  const { tenancy, identity } = c.services;
  const org = await tenancy.createOrg(sys, { name, country });
  const site = await tenancy.createSite(sys, org.id, { name: 'HQ' });
  const floor = await tenancy.createFloor(sys, org.id, site.id, { name: 'G', widthM: 50, heightM: 40 });
  await tenancy.setFloorPlan(sys, org.id, floor.id, PNG);
  const zone = await tenancy.createZone(sys, org.id, floor.id, { name: 'Z', polygon: [[0, 0], [10, 0], [10, 10]] });
  const user = await identity.createUser(sys, org.id, { email: `${name}-fixture@example.org`, password: 'fixture-password-123', roles: [{ role: 'observer' }] });
  return { orgId: org.id, siteId: site.id, floorId: floor.id, zoneId: zone.id, userId: user.id };
}

async function headersFor(role: string, t: Tenant, tenantName: string): Promise<Record<string, string>> {
  const key = `${role}@${tenantName}`;
  if (auth[key]) return auth[key]!;
  const { identity } = c.services;
  let h: Record<string, string> = {};
  if (role === 'sensor') {
    const tok = await identity.createToken(sys, t.orgId, { name: 'sensor', role: 'sensor' });
    h = { authorization: `Bearer ${tok.token}` };
  } else if (role === 'support') {
    const email = 'support@operator.example';
    if (!auth.__support) {
      await identity.createOperator(sys, { email, password: 'support-password-123' });
      auth.__support = { cookie: await login(c, email, 'support-password-123') };
    }
    h = auth.__support!;
  } else if (role !== 'anonymous') {
    const email = `${role}@${tenantName}.example`;
    await identity.createUser(sys, t.orgId, { email, password: 'role-password-1234', roles: [{ role: role as R, siteId: role === 'site_admin' ? t.siteId : null }] });
    h = { cookie: await login(c, email, 'role-password-1234') };
  }
  auth[key] = h;
  return h;
}

/** A file with a verdict in the tenant's org (threat routes look it up by SHA-256). */
const threatFiles = new Map<string, string>();
/** A quarantined message of the tenant (release needs the SMTP sink as upstream). */
async function quarantined(t: Tenant): Promise<string> {
  const verdict = { score: 10, state: 'malicious' as const, complete: true, reasons: [], attachments: [], linkHosts: [], durationMs: 0 };
  const raw = Buffer.from('From: a@outside.example\r\nTo: nobody@own.example\r\nSubject: held\r\n\r\nbody\r\n');
  return (await c.services.mail.quarantine.hold(sys, t.orgId, { source: 'smtp', raw, sender: 'a@outside.example', recipients: ['nobody@own.example'], subject: 'held', verdict }))[0]!;
}

async function threatFile(t: Tenant): Promise<string> {
  let sha = threatFiles.get(t.orgId);
  if (!sha) threatFiles.set(t.orgId, (sha = (await c.services.threat.files.submit(sys, t.orgId, Buffer.from(`access matrix fixture ${t.orgId}`), {})).sha256));
  return sha;
}

/**
 * Per tenant, a case with one contact linked to a person (badge encounters) and a channel for
 * notices: drafting needs both. Its webhook points at a loopback port, so sends are refused
 * (private target) without touching the network.
 */
const noticeFixtures = new Map<string, { caseId: string; channelId: string }>();
async function noticeFixture(t: Tenant): Promise<{ caseId: string; channelId: string }> {
  let f = noticeFixtures.get(t.orgId);
  if (f) return f;
  const at = Date.UTC(2024, 0, 1, 9);
  await c.services.ingest.encounters!.store(sys, t.orgId, null, Array.from({ length: 20 }, (_, i) => ({ a: 'matrix-notice-a', b: 'matrix-notice-b', atMs: at + i * 60_000, durationMs: 60_000 })));
  await c.services.people.setEnabled(sys, t.orgId, true);
  await c.services.people.create(sys, t.orgId, { personId: 'matrix-notice-person', badges: ['matrix-notice-b'] });
  const caseId = (await c.services.proximity.trace(sys, t.orgId, { badge: 'matrix-notice-a', fromMs: Date.UTC(2024, 0, 1), toMs: Date.UTC(2024, 0, 2), purpose: 'Access matrix fixture' })).id;
  const channelId = (await c.services.delivery.channels.create(sys, t.orgId, { kind: 'webhook', name: 'matrix notices', topics: ['contact-notices'], webhook: { url: 'http://127.0.0.1:9/hooks' } })).id;
  noticeFixtures.set(t.orgId, (f = { caseId, channelId }));
  return f;
}

/** Fill a route's params for a tenant, creating a throwaway record for destructive routes. */
async function paramsFor(method: string, url: string, t: Tenant): Promise<Record<string, string>> {
  const { tenancy, identity } = c.services;
  const p: Record<string, string> = { orgId: t.orgId, siteId: t.siteId, floorId: t.floorId, zoneId: t.zoneId, userId: t.userId, dataClass: 'device' };
  if (url.includes(':deviceId')) p.deviceId = '0123456789abcdef0123456789abcdef';
  if (method === 'DELETE' && url.endsWith(':siteId')) p.siteId = (await tenancy.createSite(sys, t.orgId, { name: `tmp${seq++}` })).id;
  if (method === 'DELETE' && url.endsWith(':floorId')) p.floorId = (await tenancy.createFloor(sys, t.orgId, t.siteId, { name: `tmp${seq++}`, widthM: 5, heightM: 5 })).id;
  if (method === 'DELETE' && url.endsWith(':zoneId')) p.zoneId = (await tenancy.createZone(sys, t.orgId, t.floorId, { name: `tmp${seq++}`, polygon: [[0, 0], [1, 0], [1, 1]] })).id;
  if (method === 'PATCH' && url.endsWith(':userId')) p.userId = (await identity.createUser(sys, t.orgId, { email: `tmp${seq++}@x.example`, password: 'throwaway-pass-123', roles: [{ role: 'observer' }] })).id;
  if (url.endsWith(':tokenId')) p.tokenId = (await identity.createToken(sys, t.orgId, { name: 'tmp', role: 'sensor' })).id;
  if (url.includes(':sha256')) p.sha256 = await threatFile(t);
  // Encrypted-traffic analysis is off by default; the upload route needs it on (the settings route may have turned it off).
  if (url.endsWith('/threat/pcaps')) await c.services.threat.settings.update(sys, t.orgId, { fileRetentionDays: {}, encryptedTrafficAnalysis: true });
  if (url.includes(':messageId')) p.messageId = await quarantined(t);
  if (url.endsWith(':sensorId')) p.sensorId = (await c.services.sensors.create(sys, t.orgId, t.siteId, { floorId: t.floorId, kind: 'ap', name: `tmp${seq++}`, xM: 1, yM: 1 })).id;
  if (url.includes('/mqtt-credentials')) {
    // A fresh sensor each call; every route but the issuing POST needs credentials to exist.
    p.sensorId = (await c.services.sensors.create(sys, t.orgId, t.siteId, { floorId: t.floorId, kind: 'ble-sensor', name: `tmp${seq++}`, xM: 1, yM: 1 })).id;
    if (!(method === 'POST' && url.endsWith('/mqtt-credentials'))) await c.services.mqtt.issue(sys, t.orgId, p.sensorId);
  }
  if (url.endsWith(':ruleId')) p.ruleId = (await c.services.threat.yara.add(sys, t.orgId, { name: 'tmp', source: `rule tmp_${seq++} { strings: $a = "cairn-matrix" condition: $a }` })).id;
  // Delivery channels point at a loopback port: sends are refused (private target) without touching the network.
  if (url.includes(':channelId')) p.channelId = (await c.services.delivery.channels.create(sys, t.orgId, { kind: 'webhook', name: `tmp${seq++}`, topics: ['occupancy-alerts'], webhook: { url: 'http://127.0.0.1:9/hooks' } })).id;
  if (url.endsWith('/baseline/learn')) await c.services.occupancy.setBaseline(sys, t.orgId, t.zoneId, { mode: 'learned' });
  if (url.endsWith(':entryId')) p.entryId = (await c.services.threat.lists.add(sys, t.orgId, { list: 'block', kind: 'domain', value: `tmp${seq++}.example` })).id;
  // A fresh org-wide draft of the terms for each call (publishing freezes it).
  if (url.includes(':termsId')) p.termsId = (await c.services.consent.terms.create(sys, t.orgId, { audience: 'portal', texts: TERMS_TEXTS })).id;
  if (url.includes('/people')) {
    // The directory is off by default; a fresh person (with one linked badge) for each call.
    await c.services.people.setEnabled(sys, t.orgId, true);
    if (url.includes(':personId')) {
      const person = await c.services.people.create(sys, t.orgId, { personId: `matrix-${seq++}`, badges: [`matrix-badge-${seq++}`] });
      p.personId = person.id;
      if (url.endsWith(':deviceId')) p.deviceId = person.devices[0]!.id;
    }
  }
  if (url.includes('/dsar/:requestId')) p.requestId = await dsarRequest(t, url);
  if (url.includes('/notices')) {
    // A fresh batch for each call, in the state the route needs (drafted and approved by two other actors).
    const f = await noticeFixture(t);
    if (url.includes(':noticeId')) {
      p.noticeId = (await c.services.notify.draft(systemCtx('bootstrap'), t.orgId, f)).id;
      if (url.endsWith('/send')) await c.services.notify.approve(sys, t.orgId, p.noticeId);
    }
  }
  if (url.includes(':activityId')) p.activityId = 'location.services';
  if (url.includes(':incidentId')) p.incidentId = (await c.services.incidents.create(sys, t.orgId, { title: `Matrix incident ${seq++}` })).id;
  if (url.includes(':caseId')) p.caseId = (await c.services.proximity.trace(sys, t.orgId, { mac: '02:00:00:00:00:09', fromMs: Date.UTC(2024, 0, 1), toMs: Date.UTC(2024, 0, 2), purpose: 'Access matrix fixture' })).id;
  return p;
}

/** A fresh data-subject request in the state the route needs (recorded by an officer, so verified). */
async function dsarRequest(t: Tenant, url: string): Promise<string> {
  const rights = c.services.rights;
  const kind = url.endsWith('/archive') ? 'access' : url.endsWith('/lift') ? 'restriction' : 'objection';
  const r = await rights.intake(sys, t.orgId, { kind, identifier: { kind: 'email', value: `matrix-dsar-${seq++}@subject.example` } });
  if (url.endsWith('/fulfil') || url.endsWith('/archive') || url.endsWith('/lift')) await rights.approve(sys, t.orgId, r.id);
  if (url.endsWith('/archive') || url.endsWith('/lift')) await rights.fulfil(sys, t.orgId, r.id);
  return r.id;
}

function bodyFor(method: string, url: string, t: Tenant): { payload?: unknown; headers?: Record<string, string> } {
  const key = `${method} ${url}`;
  const bodies: Record<string, unknown> = {
    'POST /api/v1/orgs/:orgId/dsar': { kind: 'access', identifier: { kind: 'email', value: `matrix-intake-${seq++}@subject.example` } },
    'POST /api/v1/orgs/:orgId/dsar/:requestId/reject': { reason: 'other' },
    'POST /api/v1/orgs/:orgId/dsar/:requestId/extend': { reason: 'complexity' },
    'PATCH /api/v1/orgs/:orgId': { name: 'Renamed' },
    'POST /api/v1/orgs/:orgId/sites': { name: `Site ${seq++}` },
    'PATCH /api/v1/orgs/:orgId/sites/:siteId': { name: 'HQ' },
    'POST /api/v1/orgs/:orgId/sites/:siteId/floors': { name: 'F', widthM: 10, heightM: 10 },
    'PATCH /api/v1/orgs/:orgId/floors/:floorId': { name: 'G' },
    'POST /api/v1/orgs/:orgId/floors/:floorId/zones': { name: 'Z2', polygon: [[1, 1], [2, 1], [2, 2]] },
    'PATCH /api/v1/orgs/:orgId/zones/:zoneId': { occupancyLimit: 20 },
    'POST /api/v1/orgs/:orgId/users': { email: `new${seq++}@x.example`, password: 'a-long-password-1', roles: [{ role: 'observer' }] },
    'PATCH /api/v1/orgs/:orgId/users/:userId': { disabled: true },
    'POST /api/v1/orgs/:orgId/tokens': { name: 'integration', role: 'observer' },
    'PUT /api/v1/orgs/:orgId/support-grant': { days: 30 },
    'PUT /api/v1/orgs/:orgId/retention/:dataClass': { days: 60 },
    'POST /api/v1/orgs/:orgId/devices': { devices: [{ mac: '02:00:00:00:00:01', kind: 'wifi', siteId: t.siteId, seenAt: new Date().toISOString() }] },
    'POST /api/v1/orgs/:orgId/devices/fixes/search': { mac: '02:00:00:00:00:01' },
    'POST /api/v1/orgs/:orgId/devices/sessions/search': { mac: '02:00:00:00:00:01' },
    'POST /api/v1/orgs/:orgId/threat/lists': { list: 'block', kind: 'domain', value: `bad${seq++}.example` },
    'PUT /api/v1/orgs/:orgId/threat/settings': { fileRetentionDays: {}, encryptedTrafficAnalysis: false },
    'POST /api/v1/orgs/:orgId/threat/yara-rules': { name: 'matrix', source: `rule matrix_${seq++} { strings: $a = "cairn-matrix-rule" condition: $a }` },
    'POST /api/v1/orgs/:orgId/sites/:siteId/sensors': { floorId: t.floorId, kind: 'ble-sensor', name: `S${seq++}`, xM: 2, yM: 3 },
    'PATCH /api/v1/orgs/:orgId/sensors/:sensorId': { name: 'moved', xM: 4 },
    'PUT /api/v1/orgs/:orgId/sites/:siteId/calibration': { txPowerDbm: -45, exponent: 2.8 },
    'PUT /api/v1/orgs/:orgId/ingest/settings': { trackAssets: false },
    'PUT /api/v1/orgs/:orgId/ingest/spaces-firehose': { url: 'https://partners.ciscospaces.io/api/partners/v1/firehose/events', enabled: false },
    'POST /api/v1/ingest/observations': { observations: [{ kind: 'wifi-connected', deviceId: '02:00:00:00:00:09', atMs: Date.UTC(2024, 0, 1) }] },
    'POST /api/v1/orgs/:orgId/contact-traces': { mac: '02:00:00:00:00:09', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', purpose: 'Access matrix check' },
    'PUT /api/v1/orgs/:orgId/contact-tracing/settings': { radiusMeters: 2 },
    'POST /api/v1/orgs/:orgId/notices': noticeFixtures.get(t.orgId),
    'PUT /api/v1/orgs/:orgId/notices/settings': { defaultLanguage: 'en' },
    'PUT /api/v1/orgs/:orgId/people/:personId/notice-language': { language: 'nl' },
    'POST /api/v1/ingest/encounters': [{ a: 'matrix-1', b: 'matrix-2', atMs: Date.UTC(2024, 0, 1), durationMs: 20_000 }],
    'PUT /api/v1/orgs/:orgId/threat/email/settings': { language: 'en' },
    'PUT /api/v1/orgs/:orgId/occupancy/settings': { windowMinutes: 5 },
    'PUT /api/v1/orgs/:orgId/zones/:zoneId/baseline': { mode: 'fixed', limit: 25 },
    'POST /api/v1/orgs/:orgId/delivery/channels': { kind: 'webhook', name: `matrix${seq++}`, topics: ['occupancy-alerts'], webhook: { url: 'http://127.0.0.1:9/hooks' } },
    'PATCH /api/v1/orgs/:orgId/delivery/channels/:channelId': { name: 'renamed' },
    'POST /api/v1/orgs/:orgId/consent/terms': { audience: 'portal', texts: TERMS_TEXTS },
    'PUT /api/v1/orgs/:orgId/consent/terms/:termsId': { texts: TERMS_TEXTS },
    'PUT /api/v1/orgs/:orgId/sites/:siteId/portal': { enabled: false },
    'POST /api/v1/orgs/:orgId/consent/records/search': { mac: '02:00:00:00:00:01' },
    'POST /api/v1/orgs/:orgId/consent/sdk': { appId: 'matrix-app', optedIn: true },
    'POST /api/v1/orgs/:orgId/journeys/search': { mac: '02:00:00:00:00:01' },
    'PUT /api/v1/orgs/:orgId/journeys/settings': { passerbyMaxMinutes: 5, bounceMaxMinutes: 240, engagedMaxMinutes: 480 },
    'PUT /api/v1/orgs/:orgId/people/settings': { enabled: true },
    'POST /api/v1/orgs/:orgId/people': { personId: `matrix-new-${seq++}`, name: 'Matrix Person' },
    'POST /api/v1/orgs/:orgId/people/import': [{ personId: `matrix-import-${seq++}`, badges: [`matrix-import-badge-${seq++}`] }],
    'POST /api/v1/orgs/:orgId/people/:personId/devices': { badge: `matrix-link-${seq++}` },
    'PUT /api/v1/orgs/:orgId/ropa/controller': { name: 'Matrix Org' },
    'PUT /api/v1/orgs/:orgId/ropa/activities/:activityId': { legalBasis: 'legitimate_interests' },
    'POST /api/v1/orgs/:orgId/incidents': { title: `Matrix incident ${seq++}` },
    'PATCH /api/v1/orgs/:orgId/incidents/:incidentId': { measures: 'Matrix measures' },
    'POST /api/v1/orgs/:orgId/incidents/:incidentId/notify': { manual: 'Told the matrix' },
    'POST /api/v1/orgs/:orgId/incidents/:incidentId/close': { reason: 'false_positive' },
  };
  if (key === 'PUT /api/v1/orgs/:orgId/floors/:floorId/plan') return { payload: PNG, headers: { 'content-type': 'image/png' } };
  if (key === 'POST /api/v1/orgs/:orgId/threat/pcaps') return { payload: PCAP, headers: { 'content-type': 'application/vnd.tcpdump.pcap' } };
  if (key === 'POST /api/v1/threat/files') return { payload: Buffer.from('a file to analyse'), headers: { 'content-type': 'application/octet-stream' } };
  return key in bodies ? { payload: bodies[key] } : {};
}

/** Put the grants back as the matrix expects them: active for the own tenant, revoked for the foreign one. */
async function restoreGrants(): Promise<void> {
  await c.services.identity.renewSupportGrant(sys, tenants.own.orgId, 30);
  await c.services.identity.revokeSupportGrant(sys, tenants.foreign.orgId);
}

after(async () => {
  await c?.close();
  await sink?.close();
  await setup.cleanup();
});

test('every route × role × tenant is allowed exactly as the table says', async () => {
  sink = await startSmtpSink();
  c = await makeApp(setup, { smtpUpstream: sink.address });
  tenants.own = await makeTenant('own', 'NL');
  tenants.foreign = await makeTenant('foreign', 'US');
  await restoreGrants();
  const failures: string[] = [];
  const seen = new Set<string>();
  const routes = c.routes.filter((r) => r.url.startsWith('/api/v1/'));
  for (const r of c.routes) {
    const key = `${r.method} ${r.url}`;
    if (!PUBLIC.has(key) && !SELF.has(key) && !(key in EXPECT)) failures.push(`route ${key} has no row in the access table`);
  }
  for (const r of routes) {
    const key = `${r.method} ${r.url}`;
    seen.add(key);
    if (PUBLIC.has(key) || SELF.has(key)) continue;
    const allowed = EXPECT[key] ?? [];
    for (const role of ROLES) {
      for (const which of ['own', 'foreign'] as const) {
        const t = tenants[which];
        const headers = { ...(await headersFor(role, tenants.own, 'own')) };
        const params = await paramsFor(r.method, r.url, t);
        // Routes outside /orgs/:orgId take the org from the caller, or ?orgId= when named.
        const url = r.url.replace(/:(\w+)/g, (_m, k: string) => params[k] ?? 'missing') + (r.url.startsWith('/api/v1/threat/') || r.url.startsWith('/api/v1/ingest/') ? `?orgId=${t.orgId}` : '') + (r.url.endsWith('/occupancy/stream') ? '?maxEvents=1' : '');
        const b = bodyFor(r.method, r.url, t);
        const res = await c.app.inject({ method: r.method as 'GET', url, headers: { ...headers, ...(b.headers ?? {}) }, ...(b.payload !== undefined ? { payload: b.payload as string } : {}) });
        const shouldPass = which === 'own' && role !== 'anonymous' && allowed.includes(role);
        const label = `${key} as ${role} on ${which} tenant → ${res.statusCode}`;
        if (shouldPass && res.statusCode >= 400) failures.push(`${label}: expected success, body ${res.body.slice(0, 200)}`);
        if (!shouldPass) {
          const want = role === 'anonymous' ? 401 : 404;
          if (res.statusCode !== want) failures.push(`${label}: expected ${want}`);
          else if (want === 404 && JSON.parse(res.body).error?.message !== 'Not found or no access.') failures.push(`${label}: refusal must say "Not found or no access."`);
          if (res.body.includes(t.siteId) || res.body.includes(t.floorId)) failures.push(`${label}: refusal leaks record ids`);
        }
        await restoreGrants();
      }
    }
  }
  for (const k of Object.keys(EXPECT)) if (!seen.has(k)) failures.push(`table row ${k} matches no route`);
  assert.deepEqual(failures, []);
});

test('self routes show only the caller\'s own orgs; support only orgs with an active grant', async () => {
  for (const role of ROLES.filter((x) => x !== 'anonymous')) {
    const res = await c.app.inject({ method: 'GET', url: '/api/v1/orgs', headers: await headersFor(role, tenants.own, 'own') });
    assert.equal(res.statusCode, 200, role);
    assert.ok(!res.body.includes(tenants.foreign.orgId), `${role} sees the foreign org`);
  }
  assert.equal((await c.app.inject({ method: 'GET', url: '/api/v1/orgs' })).statusCode, 401);
});

test('support loses access the moment the tenant revokes the grant, and regains it on renewal', async () => {
  const h = await headersFor('support', tenants.own, 'own');
  const url = `/api/v1/orgs/${tenants.own.orgId}/sites`;
  assert.equal((await c.app.inject({ method: 'GET', url, headers: h })).statusCode, 200);
  await c.services.identity.revokeSupportGrant(sys, tenants.own.orgId);
  assert.equal((await c.app.inject({ method: 'GET', url, headers: h })).statusCode, 404);
  await c.services.identity.renewSupportGrant(sys, tenants.own.orgId, 1);
  assert.equal((await c.app.inject({ method: 'GET', url, headers: h })).statusCode, 200);
});

test('denied attempts are audited on the target org', async () => {
  // The whole chain, a page at a time: every matrix call also renews the grant, so the token
  // routes' denials lie far back.
  const events: Awaited<ReturnType<typeof c.services.auditQueries.list>> = [];
  for (let beforeSeq: number | undefined; ; ) {
    const page = await c.services.auditQueries.list(sys, tenants.own.orgId, { limit: 1000, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
    events.push(...page);
    if (page.length < 1000) break;
    beforeSeq = page.at(-1)!.seq;
  }
  assert.ok(events.some((e) => e.outcome === 'denied' && e.action === 'token.create'), 'a denied token.create is in the audit log');
});
