/**
 * Name and address services, shaped like the `socket` module's functions of
 * the same names: `getaddrinfo()`, `gethostname()`, `getfqdn()`,
 * `gethostbyname()`, `inetPton()`/`inetNtop()` and the interface-name calls,
 * with the `AI_*` flags and `EAI_*` codes. Re-exported through the `socket`
 * namespace (`socket.getaddrinfo`, …).
 *
 * Like Python's, these calls block: a name that goes to DNS can take
 * seconds. A failed lookup throws {@link GaiError} (`socket.gaierror`);
 * everything else throws {@link OSError}, TypeError or RangeError.
 *
 * @example
 * import { socket } from 'asyncore-node';
 * for (const [family, type, proto, , address] of socket.getaddrinfo('localhost', 80, 0, socket.SOCK_STREAM))
 *   console.log(family, address); // 2 ['127.0.0.1', 80]
 */
import { domainToASCII } from 'node:url';
import { binding } from './native';
import type { Address } from './socket';

const c = binding.constants;

/** `getaddrinfo()` flag: addresses for `bind()` (the wildcard when `host` is null). Python: `socket.AI_PASSIVE`. */
export const AI_PASSIVE: number = c.AI_PASSIVE;
/** `getaddrinfo()` flag: put the host's canonical name in the first entry. Python: `socket.AI_CANONNAME`. */
export const AI_CANONNAME: number = c.AI_CANONNAME;
/** `getaddrinfo()` flag: `host` must be a numeric address (no lookup). Python: `socket.AI_NUMERICHOST`. */
export const AI_NUMERICHOST: number = c.AI_NUMERICHOST;
/** `getaddrinfo()` flag: `port` must be numeric (no service lookup). Python: `socket.AI_NUMERICSERV`. */
export const AI_NUMERICSERV: number = c.AI_NUMERICSERV;
/** `getaddrinfo()` flag: only families configured on this host. Python: `socket.AI_ADDRCONFIG`. */
export const AI_ADDRCONFIG: number = c.AI_ADDRCONFIG;
/** `getaddrinfo()` flag: IPv4-mapped IPv6 addresses when asking for AF_INET6. Python: `socket.AI_V4MAPPED`. */
export const AI_V4MAPPED: number = c.AI_V4MAPPED!;
/** `getaddrinfo()` flag: with AI_V4MAPPED, both IPv6 and mapped IPv4 addresses. Python: `socket.AI_ALL`. */
export const AI_ALL: number = c.AI_ALL;

/** {@link GaiError} code: temporary failure, try again. Python: `socket.EAI_AGAIN`. */
export const EAI_AGAIN: number = c.EAI_AGAIN;
/** {@link GaiError} code: invalid flags. Python: `socket.EAI_BADFLAGS`. */
export const EAI_BADFLAGS: number = c.EAI_BADFLAGS;
/** {@link GaiError} code: non-recoverable failure. Python: `socket.EAI_FAIL`. */
export const EAI_FAIL: number = c.EAI_FAIL;
/** {@link GaiError} code: address family not supported. Python: `socket.EAI_FAMILY`. */
export const EAI_FAMILY: number = c.EAI_FAMILY;
/** {@link GaiError} code: out of memory. Python: `socket.EAI_MEMORY`. */
export const EAI_MEMORY: number = c.EAI_MEMORY;
/** {@link GaiError} code: name or service not known. Python: `socket.EAI_NONAME`. */
export const EAI_NONAME: number = c.EAI_NONAME;
/** {@link GaiError} code: service not supported for the socket type. Python: `socket.EAI_SERVICE`. */
export const EAI_SERVICE: number = c.EAI_SERVICE;
/** {@link GaiError} code: socket type not supported. Python: `socket.EAI_SOCKTYPE`. */
export const EAI_SOCKTYPE: number = c.EAI_SOCKTYPE;
/** A system error (thrown as a plain {@link OSError} with the real errno, as Python). Python: `socket.EAI_SYSTEM`. */
export const EAI_SYSTEM: number = c.EAI_SYSTEM;
/** {@link GaiError} code: an argument buffer overflowed. Python: `socket.EAI_OVERFLOW`. */
export const EAI_OVERFLOW: number = c.EAI_OVERFLOW;
/** {@link GaiError} code: the host has no address (glibc; `undefined` where the platform lacks it). Python: `socket.EAI_NODATA`. */
export const EAI_NODATA: number | undefined = c.EAI_NODATA;
/** {@link GaiError} code: no address in the requested family (glibc; `undefined` where the platform lacks it). Python: `socket.EAI_ADDRFAMILY`. */
export const EAI_ADDRFAMILY: number | undefined = c.EAI_ADDRFAMILY;

/**
 * One `getaddrinfo()` answer, Python's 5-tuple:
 * `[family, type, proto, canonname, address]`; `canonname` is `''` unless
 * AI_CANONNAME asked for it (first entry only), `address` is shaped as
 * everywhere else (`[host, port]`, `[host, port, flowinfo, scopeId]`).
 */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, address: Address];

/** A non-ASCII host name in the form the resolver takes (Python encodes with 'idna'). */
function asciiHost(host: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(host)) return host;
  return domainToASCII(host) || host; // '' means "not a valid domain": the resolver will say so
}

/**
 * Resolve `host` and `port` into the addresses to create sockets for, in the
 * resolver's order. `host` null means the loopback (or, with AI_PASSIVE, the
 * wildcard); `port` may be a number, a service name (`'http'`) or null.
 * Blocks while the resolver works. Throws {@link GaiError} when the name
 * cannot be resolved.
 *
 * Python: `socket.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)`.
 *
 * @example
 * socket.getaddrinfo('localhost', 8080, socket.AF_INET, socket.SOCK_STREAM);
 * // [[2, 1, 6, '', ['127.0.0.1', 8080]]]
 */
export function getaddrinfo(host: string | null, port: string | number | null, family = 0, type = 0, proto = 0, flags = 0): AddrInfo[] {
  const h = typeof host === 'string' ? asciiHost(host) : host;
  return binding.getaddrinfo(h, port, family, type, proto, flags) as AddrInfo[];
}

/**
 * This machine's host name. Python: `socket.gethostname()`.
 *
 * @example
 * socket.gethostname(); // 'build-7'
 */
export function gethostname(): string {
  return binding.gethostname();
}

/**
 * The IPv4 address of `hostname` as dotted text, resolved as `bind()` and
 * `connect()` resolve (`''` is `'0.0.0.0'`, numeric text is returned as is).
 * Throws {@link GaiError} when the name cannot be resolved.
 * Python: `socket.gethostbyname(hostname)`.
 *
 * @example
 * socket.gethostbyname('localhost'); // '127.0.0.1'
 */
export function gethostbyname(hostname: string): string {
  return binding.gethostbyname(hostname);
}

/**
 * A fully qualified domain name for `name` (default: this host), chosen as
 * Python does: the first of the address's host name and aliases that
 * contains a dot, else its host name; `name` itself when the lookup fails.
 * Python: `socket.getfqdn(name='')`.
 *
 * @example
 * socket.getfqdn(); // 'build-7.example.com'
 */
export function getfqdn(name = ''): string {
  if (typeof name !== 'string') throw new TypeError(`getfqdn(): name must be a string, got ${typeof name}`);
  let n = name.trim();
  if (n === '' || n === '0.0.0.0' || n === '::') n = gethostname();
  let found: [string, string[], string[]] | null;
  try {
    found = binding.hostByAddr(n);
  } catch (err) {
    if (err instanceof TypeError) throw err;
    return n; // Python: any socket.error leaves the name as it is
  }
  if (found === null) return n;
  const [hostname, aliases] = found;
  return [hostname, ...aliases].find((a) => a.includes('.')) ?? hostname;
}

/**
 * Text address to packed bytes: 4 for AF_INET, 16 for AF_INET6. Unparsable
 * text throws OSError EINVAL ("illegal IP address string passed to
 * inet_pton"; Python leaves its errno None), another family EAFNOSUPPORT.
 * Python: `socket.inet_pton(address_family, ip_string)`.
 *
 * @example
 * socket.inetPton(socket.AF_INET, '127.0.0.1'); // <Buffer 7f 00 00 01>
 */
export function inetPton(addressFamily: number, ipString: string): Buffer {
  return binding.inetPton(addressFamily, ipString);
}

/**
 * Packed bytes (4 for AF_INET, 16 for AF_INET6) to text. A wrong length or
 * family is a RangeError (Python's ValueError).
 * Python: `socket.inet_ntop(address_family, packed_ip)`.
 *
 * @example
 * socket.inetNtop(socket.AF_INET6, Buffer.alloc(16)); // '::'
 */
export function inetNtop(addressFamily: number, packedIp: ArrayBufferView | ArrayBuffer): string {
  return binding.inetNtop(addressFamily, packedIp);
}

/**
 * The index of the network interface `ifname`; OSError ENODEV ("no interface
 * with this name") when there is none. Python: `socket.if_nametoindex(if_name)`.
 *
 * @example
 * socket.ifNametoindex('lo'); // 1
 */
export function ifNametoindex(ifname: string): number {
  return binding.ifNametoindex(ifname);
}

/**
 * The name of the network interface with index `ifindex`; OSError ENXIO when
 * there is none. Python: `socket.if_indextoname(if_index)`.
 *
 * @example
 * socket.ifIndextoname(1); // 'lo'
 */
export function ifIndextoname(ifindex: number): string {
  return binding.ifIndextoname(ifindex);
}

/**
 * Every network interface as `[index, name]`. Python: `socket.if_nameindex()`.
 *
 * @example
 * socket.ifNameindex(); // [[1, 'lo'], [2, 'eth0']]
 */
export function ifNameindex(): Array<[number, string]> {
  return binding.ifNameindex();
}
