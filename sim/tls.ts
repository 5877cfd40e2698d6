// Certificates for TLS routes, made with the openssl CLI (Node cannot mint X.509): a private CA,
// a leaf naming every TLS route's address, and a "mismatched" leaf for another name. Clients that
// should trust the routes get the CA; one that does not sees a self-signed chain, as with Plex.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

export interface SimCertificates {
  /** PEM of the simulation's CA. */
  caPem: string;
  good: tls.SecureContext;
  /** Valid chain, wrong name: what a client meets when another host answers. */
  mismatched: tls.SecureContext;
}

export function makeCertificates(hosts: string[]): SimCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-sim-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Marquee Simulator CA');
    const leaf = (name: string, san: string) => {
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
      run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`);
      return tls.createSecureContext({ key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) });
    };
    const san = [...new Set(hosts)].map((h) => `IP:${h}`).join(',');
    return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), good: leaf('sim-routes', san || 'IP:127.0.0.1'), mismatched: leaf('wrong-host', 'DNS:wrong-host.invalid') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
