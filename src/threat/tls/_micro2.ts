import { TlsCaptureAnalyzer } from './index.ts';
import { encodePcap } from './testkit.ts';
import { loadTemplates, buildBatch } from '../../../bench/tls.ts';
const t = loadTemplates();
const batch = buildBatch(t, 0, 20000);
const hdr = encodePcap([], { linkType: 1 });
for (let k = 0; k < 50; k++) {
  let n = 0;
  const a = new TlsCaptureAnalyzer({ retainRecords: false, onRecord: () => void n++ });
  a.push(hdr); a.push(batch); a.end();
}
