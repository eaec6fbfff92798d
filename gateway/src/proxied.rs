//! The client's own address behind a load balancer. A connection from a
//! trusted proxy (`KOERIER_TRUSTED_PROXIES`: addresses and CIDR blocks)
//! begins with a PROXY protocol header (v1 or v2, as HAProxy sends it) that
//! names the client (a connection from one without it is its own); a
//! request over HTTP from one may also name it in
//! `X-Forwarded-For`. From anyone else neither is believed, so no client
//! can pose as another. Every door takes the client's address from here, so
//! rate limits, the audit trail and the reports name the client, not the
//! balancer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// How long a trusted proxy may take to send its header.
pub const HEADER_TIME: Duration = Duration::from_secs(5);

/// The v2 header's first twelve bytes.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// The longest v1 header (the protocol's own limit).
const V1_MAX: usize = 107;

/// Addresses and blocks whose PROXY header and `X-Forwarded-For` are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// From `10.0.0.0/8, 192.0.2.7, 2001:db8::/32` (commas or spaces between).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut blocks = Vec::new();
        for item in list.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
            let (address, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let address: IpAddr = address.parse().map_err(|_| format!("{item:?} is not an address or CIDR block"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => {
                    b.parse::<u8>().ok().filter(|b| *b <= max).ok_or(format!("{item:?}: a prefix of 0 to {max}"))?
                }
                None => max,
            };
            blocks.push((address, bits));
        }
        Ok(TrustedProxies(blocks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(block, bits)| in_block(ip, *block, *bits))
    }

    /// The client of an HTTP request that came from `peer`: from a trusted
    /// proxy, the right-most address of `X-Forwarded-For` (all the values
    /// given, in order) that is not itself a trusted proxy; else `peer`.
    pub fn forwarded_client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).map(str::trim).collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.contains(ip) => continue,
                Ok(ip) => return ip.to_canonical(),
                // A value that is no address ends what can be believed.
                Err(_) => return peer,
            }
        }
        peer
    }
}

fn in_block(ip: IpAddr, block: IpAddr, bits: u8) -> bool {
    match (ip, block.to_canonical()) {
        (IpAddr::V4(ip), IpAddr::V4(block)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(block) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(block)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(block) & mask
        }
        _ => false,
    }
}

/// Why a trusted proxy's connection was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ProxyHeaderError {
    #[error("the connection ended before its PROXY header")]
    Io(#[from] std::io::Error),
    #[error("no PROXY header within {} s", HEADER_TIME.as_secs())]
    Slow,
    #[error("not a PROXY protocol header: {0}")]
    Invalid(String),
}

/// The client of a connection from a trusted proxy: the one its PROXY
/// header names, or the proxy itself when the connection starts with
/// anything else (a TLS hello, an SSH banner: the proxy's host connecting
/// directly, or a health check) or says nothing for [`HEADER_TIME`].
pub async fn client_of(stream: &mut tokio::net::TcpStream, peer: SocketAddr) -> Result<SocketAddr, ProxyHeaderError> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(HEADER_TIME, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == b'P' || first[0] == b'\r' => Ok(read_header(stream).await?.unwrap_or(peer)),
        Ok(Ok(_)) | Err(_) => Ok(peer),
        Ok(Err(e)) => Err(e.into()),
    }
}

/// Read a PROXY protocol header (v1 or v2) from the start of a connection,
/// exactly its bytes and no more (the TLS or SSH that follows is left to
/// read). The client's address, or `None` for a header that names none (a
/// health check's `LOCAL`, `UNKNOWN`): then the connection is the proxy's own.
pub async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    tokio::time::timeout(HEADER_TIME, read_header_now(stream)).await.map_err(|_| ProxyHeaderError::Slow)?
}

async fn read_header_now<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let mut bytes = vec![0u8; 6];
    stream.read_exact(&mut bytes).await?;
    if bytes == b"PROXY " {
        // v1: one line, CRLF at its end.
        while !bytes.ends_with(b"\r\n") {
            if bytes.len() >= V1_MAX {
                return Err(ProxyHeaderError::Invalid("a v1 header longer than 107 bytes".into()));
            }
            bytes.push(stream.read_u8().await?);
        }
        let header = ppp::v1::Header::try_from(&bytes[..]).map_err(|e| ProxyHeaderError::Invalid(e.to_string()))?;
        return Ok(match header.addresses {
            ppp::v1::Addresses::Tcp4(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
            ppp::v1::Addresses::Tcp6(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
            ppp::v1::Addresses::Unknown => None,
        });
    }
    if !V2_SIGNATURE.starts_with(&bytes) {
        return Err(ProxyHeaderError::Invalid("neither a v1 nor a v2 header".into()));
    }
    // v2: the signature, version and command, family, and the length of the rest.
    bytes.resize(16, 0);
    stream.read_exact(&mut bytes[6..]).await?;
    let rest = usize::from(u16::from_be_bytes([bytes[14], bytes[15]]));
    bytes.resize(16 + rest, 0);
    stream.read_exact(&mut bytes[16..]).await?;
    let header = ppp::v2::Header::try_from(&bytes[..]).map_err(|e| ProxyHeaderError::Invalid(e.to_string()))?;
    if header.command == ppp::v2::Command::Local {
        return Ok(None);
    }
    Ok(match header.addresses {
        ppp::v2::Addresses::IPv4(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        ppp::v2::Addresses::IPv6(a) => Some(SocketAddr::new(a.source_address.into(), a.source_port)),
        ppp::v2::Addresses::Unspecified | ppp::v2::Addresses::Unix(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn blocks_hold_what_they_should() -> Result<(), String> {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7 2001:db8::/32")?;
        assert!(trusted.contains(ip("10.200.3.4")) && trusted.contains(ip("192.0.2.7")));
        assert!(trusted.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped as IPv4");
        assert!(trusted.contains(ip("2001:db8:1::5")) && !trusted.contains(ip("2001:db9::1")));
        assert!(!trusted.contains(ip("192.0.2.8")) && !trusted.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err() && TrustedProxies::parse("proxy").is_err());
        assert!(TrustedProxies::parse("").map(|t| t.is_empty()).unwrap_or(false));
        Ok(())
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() -> Result<(), String> {
        let trusted = TrustedProxies::parse("10.0.0.0/8")?;
        let from = |peer: &str, values: &[&str]| trusted.forwarded_client(ip(peer), values.iter().copied());
        assert_eq!(from("10.0.0.2", &["203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            from("10.0.0.2", &["198.51.100.1, 203.0.113.9", "10.0.0.3"]),
            ip("203.0.113.9"),
            "right-most untrusted"
        );
        assert_eq!(from("198.51.100.5", &["203.0.113.9"]), ip("198.51.100.5"), "a client cannot pose as another");
        assert_eq!(from("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(from("10.0.0.2", &["garbage"]), ip("10.0.0.2"));
        Ok(())
    }

    #[tokio::test]
    async fn v1_and_v2_headers_name_the_client_and_leave_the_rest() -> Result<(), Box<dyn std::error::Error>> {
        let mut v1: &[u8] = b"PROXY TCP4 203.0.113.9 192.0.2.1 51000 443\r\nSSH-2.0-x";
        assert_eq!(read_header(&mut v1).await?, Some("203.0.113.9:51000".parse()?));
        assert_eq!(v1, b"SSH-2.0-x", "exactly the header was read");
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend([0x21, 0x21, 0, 36]);
        v2.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0u8; 11]).chain(&[9u8]));
        v2.extend([0x20, 0x01, 0x0d, 0xb8].iter().chain(&[0u8; 11]).chain(&[1u8]));
        v2.extend([0xc7, 0x38, 0x01, 0xbb]);
        v2.extend(b"\x16\x03\x01");
        let mut reader = &v2[..];
        assert_eq!(read_header(&mut reader).await?, Some("[2001:db8::9]:51000".parse()?));
        assert_eq!(reader, b"\x16\x03\x01");
        let mut local = V2_SIGNATURE.to_vec();
        local.extend([0x20, 0x00, 0, 0]);
        assert_eq!(read_header(&mut &local[..]).await?, None, "a health check names no client");
        let mut tls: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01";
        assert!(matches!(read_header(&mut tls).await, Err(ProxyHeaderError::Invalid(_))));
        Ok(())
    }
}
