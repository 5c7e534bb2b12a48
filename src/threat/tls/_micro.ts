import { TlsCaptureAnalyzer } from './index.ts';
import { encodePcap } from './testkit.ts';
import { loadTemplates, buildBatch } from '../../../bench/tls.ts';
const t = loadTemplates();
const batch = buildBatch(t, 0, 20000);
const hdr = encodePcap([], { linkType: 1 });
for (let k = 0; k < 6; k++) {
  let n = 0;
  const a = new TlsCaptureAnalyzer({ retainRecords: false, onRecord: () => void n++ });
  const t0 = performance.now();
  a.push(hdr); a.push(batch); a.end();
  const ms = performance.now() - t0;
  console.log(n, ms.toFixed(1), Math.round(n / ms * 1000));
}
