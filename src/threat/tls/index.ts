/**
 * Encrypted-traffic analysis (R-ATP-4, R-DATA-9): reads pcap/pcapng captures, reassembles
 * TLS/QUIC/DTLS session set-up, fingerprints clients with JA3 and JA4, and scores them
 * against threat-intelligence lists (R-ATP-6). Pure code: no storage, no network.
 */
export * from './analyze.ts';
