/**
 * DNs compared as a directory compares them: attribute types and values without case, no
 * spaces around separators, escapes decoded (`cn=a\,b` and `cn=a\2Cb` are one RDN).
 */

/** The RDNs of `dn`, split at commas that are not escaped. */
function rdns(dn: string): string[] {
  return dn.split(/(?<!\\),/).map((rdn) => rdn.trim());
}

/** An attribute value with `\c` and `\XX` (UTF-8 bytes) escapes decoded. */
function unescape(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === '\\' ? /^[0-9a-fA-F]{2}/.exec(value.slice(i + 1)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      if (value[i] === '\\') i += 1;
      bytes.push(...Buffer.from(value[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function normalRdn(rdn: string): string {
  const cut = rdn.indexOf('=');
  if (cut < 0) return rdn.toLowerCase();
  return `${rdn.slice(0, cut).trim().toLowerCase()}=${unescape(rdn.slice(cut + 1).trim()).toLowerCase()}`;
}

/** Whether `dn` lies below `base`. */
export function isUnder(dn: string, base: string): boolean {
  const d = rdns(dn).map(normalRdn);
  const b = rdns(base).map(normalRdn);
  return d.length > b.length && b.every((rdn, i) => d[d.length - b.length + i] === rdn);
}

/** The nearest DN both `a` and `b` lie at or below (as `a` spells it), if they share one. */
export function parentOfBoth(a: string, b: string): string | undefined {
  const left = rdns(a);
  const x = left.map(normalRdn);
  const y = rdns(b).map(normalRdn);
  let shared = 0;
  while (
    shared < Math.min(x.length, y.length) &&
    x[x.length - 1 - shared] === y[y.length - 1 - shared]
  )
    shared += 1;
  return shared > 0 ? left.slice(left.length - shared).join(',') : undefined;
}
