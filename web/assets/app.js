// Dashboard overview: who is signed in, their orgs, each org's sites, support grant and audit status.
const main = document.getElementById('main');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
async function api(path, init) {
  const res = await fetch(path, init);
  if (res.status === 401) {
    location.href = '/login';
    return new Promise(() => {}); // the page is going away; nothing after this should run
  }
  return res.ok ? res.json() : null;
}
document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/api/v1/auth/logout', { method: 'POST' });
  location.href = '/login';
});
const me = await api('/api/v1/auth/me');
document.getElementById('who').textContent = me.operator ? 'operator support' : me.roles.map((r) => r.role).join(', ');
const orgs = (await api('/api/v1/orgs')) ?? [];
const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
let html = '';
for (const org of orgs) {
  const sites = (await api(`/api/v1/orgs/${org.id}/sites`)) ?? [];
  const grant = await api(`/api/v1/orgs/${org.id}/support-grant`);
  const audit = await api(`/api/v1/orgs/${org.id}/audit/verify`);
  const rows = [];
  for (const s of sites) {
    const floors = (await api(`/api/v1/orgs/${org.id}/sites/${s.id}/floors`)) ?? [];
    let zones = 0;
    for (const f of floors) zones += ((await api(`/api/v1/orgs/${org.id}/floors/${f.id}/zones`)) ?? []).length;
    const count = await api(`/api/v1/orgs/${org.id}/devices/count?siteId=${s.id}&windowMinutes=60`);
    rows.push(`<tr><td>${esc(s.name)}</td><td>${esc(s.timezone)}</td><td>${floors.length}</td><td>${zones}</td><td>${count ? `${count.total} <small>(${count.randomized} randomised)</small>` : '–'}</td></tr>`);
  }
  html += `<section class="org" data-org="${esc(org.id)}"><h2>${esc(org.name)}</h2>
    <p>Country ${esc(org.country)} · region <b>${esc(org.region)}</b>${grant ? ` · support grant ${grant.active ? `active until ${esc(when(grant.expiresAt))}` : 'off'}` : ''}${audit ? ` · audit chain <b class="audit">${audit.ok ? `intact (${audit.eventsChecked} events)` : 'BROKEN at ' + esc(audit.firstBad.seq)}</b>` : ''}</p>
    <table><thead><tr><th>Site</th><th>Time zone</th><th>Floors</th><th>Zones</th><th>Devices seen (last hour)</th></tr></thead><tbody>
    ${rows.join('') || '<tr><td colspan="5">No sites yet</td></tr>'}
    </tbody></table></section>`;
}
main.innerHTML = html || '<p>No orgs visible to you.</p>';
