import { TlsCaptureAnalyzer } from './index.ts';
import { encodePcap } from './testkit.ts';
import { loadTemplates, buildBatch } from '../../../bench/tls.ts';
const t = loadTemplates();
const batch = buildBatch(t, 0, 20000, true);
const hdr = encodePcap([], { linkType: 1 });
for (let k = 0; k < 8; k++) {
  let n = 0;
  const a = new TlsCaptureAnalyzer({ retainRecords: false, onRecord: () => void n++ });
  const t0 = performance.now();
  a.push(hdr); a.push(batch); a.end();
  console.log(n, (performance.now() - t0).toFixed(1));
}
