/**
 * What the device records contribute to the org export (R-PRIV-3): every device row (R-DATA-1/2)
 * with its IP address, username and host name decrypted for the org. Their processing activity
 * (what the sources may collect) is ingest's, which decides it.
 */
import { tableExporter, type OrgExporter } from '../privacy/index.ts';

/** @example for (const e of deviceExporters()) core.exporters.register(e) */
export function deviceExporters(): OrgExporter[] {
  return [
    tableExporter({
      id: 'devices.devices',
      dataClass: 'device',
      table: 'devices',
      decrypt: ['ip_enc', 'username_enc', 'hostname_enc'],
      description: 'Devices (R-DATA-1/2): pseudonym, kind, site, randomised-address flag, first and last seen; IP address, username and host name decrypted.',
    }),
  ];
}
