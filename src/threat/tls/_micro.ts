import { TlsCaptureAnalyzer, CaptureReader, decodePacket, DecodedPacket } from './index.ts';
import { encodePcap } from './testkit.ts';
import { loadTemplates, buildBatch } from '../../../bench/tls.ts';
const t = loadTemplates();
const batch = buildBatch(t, 0, 20000);
const hdr = encodePcap([], { linkType: 1 });
function best(name: string, f: () => void, k = 12) {
  let b = Infinity;
  for (let i = 0; i < k; i++) { const t0 = performance.now(); f(); b = Math.min(b, performance.now() - t0); }
  console.log(name, b.toFixed(1) + 'ms', Math.round(20000 / b * 1000) + '/s');
}
best('reader', () => { const r = new CaptureReader(() => {}); r.push(hdr); r.push(batch); r.end(); });
const d = new DecodedPacket();
best('reader+decode', () => { const r = new CaptureReader((p) => { decodePacket(p.linkType, p.data, p.offset, p.length, d); }); r.push(hdr); r.push(batch); r.end(); });
best('full', () => { let n = 0; const a = new TlsCaptureAnalyzer({ retainRecords: false, onRecord: () => void n++ }); a.push(hdr); a.push(batch); a.end(); });
best('full retain', () => { const a = new TlsCaptureAnalyzer(); a.push(hdr); a.push(batch); a.end(); });
