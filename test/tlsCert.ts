// A throwaway self-signed certificate for 127.0.0.1 and localhost (openssl, installed by
// scripts/install-test-deps.sh), in a temp dir the caller removes with `remove()`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
  remove(): void;
}

export function selfSignedCert(prefix: string): TestCert {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
