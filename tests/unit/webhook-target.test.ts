/**
 * Where a webhook may go (src/webhooks/target.ts): every non-public range refused, in IPv4 and IPv6 and in
 * the IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4); public addresses allowed; the edges of
 * a range; a host name refused when any of its addresses is not public; the URL's form.
 */
import { describe, expect, it } from 'vitest';
import type { Lookup, TargetPolicy } from '../../src/webhooks/target.js';
import { TargetRefused, checkTargetUrl, isPublicAddress, resolveTarget } from '../../src/webhooks/target.js';

const strict: TargetPolicy = { allowHttp: false, allowPrivate: false };
const open: TargetPolicy = { allowHttp: true, allowPrivate: true };

describe('isPublicAddress', () => {
  it.each([
    ['10/8', ['10.0.0.0', '10.0.0.1', '10.255.255.255']],
    ['172.16/12', ['172.16.0.0', '172.16.0.1', '172.31.255.255']],
    ['192.168/16', ['192.168.0.1', '192.168.255.255']],
    ['127/8', ['127.0.0.1', '127.255.255.254']],
    ['169.254/16 (link-local, cloud metadata)', ['169.254.0.1', '169.254.169.254']],
    ['100.64/10 (CGNAT)', ['100.64.0.0', '100.127.255.255']],
    ['0.0.0.0 and 0/8', ['0.0.0.0', '0.1.2.3']],
    ['224/4 (multicast)', ['224.0.0.1', '239.255.255.255']],
    ['240/4 (reserved, broadcast)', ['240.0.0.1', '255.255.255.255']],
    ['IPv4 documentation and benchmarking', ['192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1']],
    ['::1 and ::', ['::1', '::', '0:0:0:0:0:0:0:1']],
    ['fe80::/10 (link-local)', ['fe80::1', 'febf:ffff::1']],
    ['fc00::/7 (unique local)', ['fc00::1', 'fd12:3456:789a::1']],
    [
      'IPv4-mapped private and loopback',
      ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::FFFF:192.168.1.1'],
    ],
    ['NAT64 of a private address', ['64:ff9b::a00:1', '64:ff9b::10.0.0.1', '64:ff9b::7f00:1']],
    ['6to4 of a private address', ['2002:a00:1::', '2002:7f00:1::1', '2002:c0a8:101::']],
    ['2001:db8::/32 (documentation)', ['2001:db8::1', '2001:db8:ffff:ffff::1']],
    ['IPv6 multicast', ['ff02::1']],
    [
      'IPv4-compatible (::/96), SIIT and local-use NAT64',
      ['::127.0.0.1', '::7f00:1', '::ffff:0:7f00:1', '64:ff9b:1::a00:1'],
    ],
  ])('refuses %s', (_range, addresses) => {
    for (const address of addresses) expect(isPublicAddress(address), address).toBe(false);
  });

  it.each([
    [
      'public IPv4',
      ['8.8.8.8', '1.1.1.1', '93.184.215.14', '100.63.255.255', '100.128.0.0', '11.0.0.0', '9.255.255.255'],
    ],
    ['the edges around 172.16/12', ['172.15.255.255', '172.32.0.0']],
    [
      'the edges around 192.168/16 and 169.254/16',
      ['192.167.255.255', '192.169.0.0', '169.253.255.255', '169.255.0.0'],
    ],
    ['the edge below 224/4', ['223.255.255.255']],
    ['public IPv6', ['2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '2001:4860:4860::8888']],
    [
      'IPv4-mapped, NAT64 and 6to4 forms of public addresses',
      ['::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'],
    ],
  ])('allows %s', (_what, addresses) => {
    for (const address of addresses) expect(isPublicAddress(address), address).toBe(true);
  });

  it('is false for anything that is not an address', () => {
    for (const text of ['', 'localhost', 'example.com', '256.1.1.1', '1.2.3', '[::1]']) {
      expect(isPublicAddress(text), text).toBe(false);
    }
  });
});

describe('checkTargetUrl', () => {
  const reason = (url: string, policy = strict) => {
    try {
      checkTargetUrl(url, policy);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(TargetRefused);
      return (error as Error).message;
    }
  };

  it('takes an https URL of a name or a public address', () => {
    expect(checkTargetUrl('https://hooks.example.com/nysana?x=1', strict).hostname).toBe('hooks.example.com');
    expect(reason('https://93.184.215.14:8443/hook')).toBeUndefined();
    expect(reason('https://[2606:4700:4700::1111]/hook')).toBeUndefined();
  });

  it('refuses http unless allowed, and other schemes always', () => {
    expect(reason('http://hooks.example.com/')).toBe('url must use https');
    expect(reason('http://hooks.example.com/', { allowHttp: true, allowPrivate: false })).toBeUndefined();
    expect(reason('ftp://hooks.example.com/', open)).toBe('url must use https or http');
    expect(reason('file:///etc/passwd', open)).toMatch(/must use/);
  });

  it('refuses credentials, fragments and what is not an absolute URL', () => {
    expect(reason('https://u:p@hooks.example.com/')).toMatch(/credentials/);
    expect(reason('https://hooks.example.com/#x')).toMatch(/fragment/);
    expect(reason('/relative')).toMatch(/absolute/);
    expect(reason('')).toMatch(/absolute/);
  });

  it('refuses a literal non-public address (bracketed IPv6 too) unless private targets are allowed', () => {
    expect(reason('https://127.0.0.1/')).toMatch(/non-public address \(127\.0\.0\.1\)/);
    expect(reason('https://[::1]/')).toMatch(/non-public/);
    expect(reason('https://[::ffff:7f00:1]/')).toMatch(/non-public/);
    // WHATWG URL turns these spellings of 127.0.0.1 into the dotted form before we look.
    expect(reason('https://2130706433/')).toMatch(/non-public/);
    expect(reason('https://0x7f.1/')).toMatch(/non-public/);
    expect(reason('http://127.0.0.1:9000/', open)).toBeUndefined();
  });
});

describe('resolveTarget', () => {
  const lookupOf =
    (answers: Record<string, string[]>): Lookup =>
    async (host) => {
      const addresses = answers[host];
      if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  const lookup = lookupOf({
    'public.test': ['93.184.215.14', '2606:4700:4700::1111'],
    'split.test': ['93.184.215.14', '10.0.0.7'],
    'mapped.test': ['::ffff:169.254.169.254'],
    'empty.test': [],
  });
  const resolve = (url: string, policy = strict) => resolveTarget(new URL(url), policy, lookup);

  it('answers every address of a public name, to connect to without a second lookup', async () => {
    expect(await resolve('https://public.test/h')).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
  });

  it('refuses a name with one public and one private address, naming the private one', async () => {
    await expect(resolve('https://split.test/h')).rejects.toThrow(
      new TargetRefused('host split.test resolves to a non-public address (10.0.0.7)'),
    );
    await expect(resolve('https://mapped.test/h')).rejects.toThrow(/non-public address \(::ffff:169\.254\.169\.254\)/);
    expect(await resolve('https://split.test/h', open)).toHaveLength(2);
  });

  it('refuses a name that does not resolve or has no address', async () => {
    await expect(resolve('https://nowhere.test/h')).rejects.toThrow(/does not resolve \(ENOTFOUND\)/);
    await expect(resolve('https://empty.test/h')).rejects.toThrow(/has no address/);
  });

  it('takes a literal address as it is, without a lookup', async () => {
    const never: Lookup = () => Promise.reject(new Error('looked up'));
    expect(await resolveTarget(new URL('https://[2606:4700:4700::1111]/'), strict, never)).toEqual([
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
    await expect(resolveTarget(new URL('https://10.0.0.1/'), strict, never)).rejects.toThrow(TargetRefused);
  });
});
