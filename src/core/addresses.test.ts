import { describe, expect, it } from 'vitest';
import { canonicalHost, classifyHost, classifyReportedUrl, reportedAddressProblem, type ReportedAddressClass } from './addresses.js';

describe('classifyHost', () => {
  const table: [string, ReportedAddressClass][] = [
    // IPv4 link-local, every spelling a URL accepts
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['169.254.169.254.', 'link-local'],
    ['0xa9fea9fe', 'link-local'],
    ['2852039166', 'link-local'],
    ['0251.0376.0251.0376', 'link-local'],
    ['169.254.1', 'link-local'],
    // neighbours that are not link-local
    ['169.253.255.255', 'ordinary'],
    ['169.255.0.1', 'ordinary'],
    ['192.168.1.20', 'ordinary'],
    ['10.0.0.5', 'ordinary'],
    ['127.0.0.1', 'ordinary'],
    // IPv6 link-local fe80::/10 (fe80 … febf)
    ['fe80::1', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['FE80::ABCD', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['[fe80::1%25eth0]', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'ordinary'],
    ['fe7f::1', 'ordinary'],
    ['fd12:3456::1', 'ordinary'],
    ['::1', 'ordinary'],
    ['::', 'ordinary'],
    ['2001:db8::1', 'ordinary'],
    // IPv4 link-local inside IPv6
    ['::ffff:169.254.169.254', 'link-local'],
    ['[::ffff:a9fe:a9fe]', 'link-local'],
    ['::ffff:192.168.1.1', 'ordinary'],
    ['::169.254.1.1', 'link-local'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::8.8.8.8', 'ordinary'],
    // metadata names and the AWS IPv6 endpoint
    ['metadata.google.internal', 'metadata'],
    ['METADATA.google.internal.', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    // ordinary names, including ones that merely look like an IP
    ['jellyfin.lan', 'ordinary'],
    ['169.254.169.254.nip.io', 'ordinary'],
    ['localhost', 'ordinary'],
    // not hosts at all
    ['', 'invalid'],
    ['[not-an-ip]', 'invalid'],
    ['fe80::1::2', 'invalid'],
    ['bad host', 'invalid'],
  ];
  it.each(table)('%s is %s', (host, expected) => {
    expect(classifyHost(host)).toBe(expected);
  });

  it('canonicalises spellings the way a URL does', () => {
    expect(canonicalHost('0xA9FEA9FE')).toBe('169.254.169.254');
    expect(canonicalHost('::FFFF:169.254.169.254')).toBe('[::ffff:a9fe:a9fe]');
    expect(canonicalHost('Example.LAN.')).toBe('example.lan');
  });
});

describe('classifyReportedUrl / reportedAddressProblem', () => {
  const table: [string, ReportedAddressClass][] = [
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://[fe80::1]:8096', 'link-local'],
    ['http://[::ffff:169.254.169.254]:8096', 'link-local'],
    ['https://0xa9fea9fe:8920', 'link-local'],
    ['http://metadata.google.internal/computeMetadata/v1', 'metadata'],
    ['http://192.168.1.20:8096', 'ordinary'],
    ['https://abc.plex.direct:32400', 'ordinary'],
    ['not a url', 'invalid'],
  ];
  it.each(table)('%s is %s', (url, expected) => {
    expect(classifyReportedUrl(url)).toBe(expected);
  });

  it('says why in words, and nothing for an ordinary address', () => {
    expect(reportedAddressProblem('http://192.168.1.20:8096')).toBeNull();
    expect(reportedAddressProblem('http://169.254.169.254')).toMatch(/link-local address/);
    expect(reportedAddressProblem('http://metadata.google.internal')).toMatch(/metadata/);
    expect(reportedAddressProblem('::')).toMatch(/not a valid/);
  });
});
