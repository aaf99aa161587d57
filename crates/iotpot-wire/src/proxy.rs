//! The PROXY protocol header (HAProxy's, versions 1 and 2) that a proxy in
//! front of a listener sends before the client's bytes: the client's real
//! address and port, and the address and port it reached. HAProxy
//! (`send-proxy`, `send-proxy-v2`), go-mmproxy and iotpot's own sensors send
//! it; the parsing is the `ppp` crate's.
//!
//! [`parse`] is fed what has arrived so far and says how many bytes it needs
//! in all before it can decide, never more than the header itself: a reader
//! that reads exactly that many leaves the client's first bytes in the
//! socket for the session. A header is at most [`MAX_HEADER`] bytes.

use std::net::{IpAddr, SocketAddr};

/// The longest header accepted: version 2's 16 bytes and up to 1 KiB of
/// addresses and TLVs (HAProxy's own stay far below), or version 1's 107.
pub const MAX_HEADER: usize = 16 + 1024;
/// What is read first: no header is shorter, so it never takes a client's byte.
pub const FIRST_READ: usize = 8;
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
const V1_PREFIX: &[u8] = b"PROXY ";
const V1_MAX: usize = 107;
/// The TLV (in the range the PROXY protocol leaves to applications) in
/// which an iotpot central names, to its own relay listener, the sensor a
/// connection came through.
pub const TLV_SENSOR: u8 = 0xE0;

/// A sensor's name as a TLV carries it: at most 64 bytes of UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorName {
    len: u8,
    bytes: [u8; 64],
}

impl SensorName {
    pub fn new(name: &str) -> Option<SensorName> {
        if name.is_empty() || name.len() > 64 {
            return None;
        }
        let mut bytes = [0u8; 64];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(SensorName {
            len: name.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

/// What a complete header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// A relayed connection (or datagram, `datagram`): who sent it and what
    /// they reached.
    Proxy {
        source: SocketAddr,
        destination: SocketAddr,
        datagram: bool,
        /// The [`TLV_SENSOR`] value, when there is one (version 2 only;
        /// only a listener that trusts its sender may believe it).
        sensor: Option<SensorName>,
    },
    /// The proxy speaking for itself (a health check), or addresses it does
    /// not know (v1 `UNKNOWN`, v2 `UNSPEC`): the connection's own addresses
    /// stand.
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// The header, `len` bytes long; the client's bytes follow it.
    Done { header: Header, len: usize },
    /// At least this many bytes in all are needed to decide.
    Need(usize),
    /// Not a header this side accepts.
    Invalid(String),
}

/// Parse the start of a connection (or a datagram).
pub fn parse(buf: &[u8]) -> Parse {
    if buf.len() < FIRST_READ {
        return Parse::Need(FIRST_READ);
    }
    if buf.starts_with(&V2_SIGNATURE[..FIRST_READ]) {
        v2(buf)
    } else if buf.starts_with(V1_PREFIX) {
        v1(buf)
    } else {
        Parse::Invalid("no PROXY protocol signature".into())
    }
}

fn v2(buf: &[u8]) -> Parse {
    if buf.len() < 16 {
        return Parse::Need(16);
    }
    let len = 16 + u16::from_be_bytes([buf[14], buf[15]]) as usize;
    if len > MAX_HEADER {
        return Parse::Invalid(format!("a version 2 header of {len} bytes"));
    }
    if buf.len() < len {
        return Parse::Need(len);
    }
    let h = match ppp::v2::Header::try_from(&buf[..len]) {
        Ok(h) => h,
        Err(e) => return Parse::Invalid(format!("version 2: {e}")),
    };
    if h.command == ppp::v2::Command::Local {
        return Parse::Done {
            header: Header::Local,
            len,
        };
    }
    let datagram = match h.protocol {
        ppp::v2::Protocol::Stream => false,
        ppp::v2::Protocol::Datagram => true,
        ppp::v2::Protocol::Unspecified => {
            return Parse::Done {
                header: Header::Local,
                len,
            }
        }
    };
    let (source, destination) = match h.addresses {
        ppp::v2::Addresses::IPv4(a) => (
            SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
            SocketAddr::new(IpAddr::V4(a.destination_address), a.destination_port),
        ),
        ppp::v2::Addresses::IPv6(a) => (
            SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
            SocketAddr::new(IpAddr::V6(a.destination_address), a.destination_port),
        ),
        ppp::v2::Addresses::Unspecified => {
            return Parse::Done {
                header: Header::Local,
                len,
            }
        }
        ppp::v2::Addresses::Unix(_) => {
            return Parse::Invalid("version 2: UNIX socket addresses".into())
        }
    };
    let mut sensor = None;
    for tlv in h.tlvs() {
        match tlv {
            Ok(t) if t.kind == TLV_SENSOR => {
                sensor = std::str::from_utf8(&t.value).ok().and_then(SensorName::new);
                if sensor.is_none() {
                    return Parse::Invalid("version 2: a bad sensor TLV".into());
                }
            }
            Ok(_) => {}
            Err(e) => return Parse::Invalid(format!("version 2: TLVs: {e}")),
        }
    }
    Parse::Done {
        header: Header::Proxy {
            source,
            destination,
            datagram,
            sensor,
        },
        len,
    }
}

fn v1(buf: &[u8]) -> Parse {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() >= V1_MAX {
            return Parse::Invalid("a version 1 header with no CRLF in 107 bytes".into());
        }
        // Byte by byte: the line's end is not known in advance.
        return Parse::Need(buf.len() + 1);
    };
    let len = end + 2;
    // The header is ASCII (and ppp's parser slices it by bytes: a
    // multi-byte character would make it panic).
    if !buf[..len].is_ascii() {
        return Parse::Invalid("version 1: not ASCII".into());
    }
    let Ok(text) = std::str::from_utf8(&buf[..len]) else {
        return Parse::Invalid("version 1: not text".into());
    };
    let h = match ppp::v1::Header::try_from(text) {
        Ok(h) => h,
        Err(e) => return Parse::Invalid(format!("version 1: {e}")),
    };
    let header = match h.addresses {
        ppp::v1::Addresses::Tcp4(a) => Header::Proxy {
            source: SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
            destination: SocketAddr::new(IpAddr::V4(a.destination_address), a.destination_port),
            datagram: false,
            sensor: None,
        },
        ppp::v1::Addresses::Tcp6(a) => Header::Proxy {
            source: SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
            destination: SocketAddr::new(IpAddr::V6(a.destination_address), a.destination_port),
            datagram: false,
            sensor: None,
        },
        ppp::v1::Addresses::Unknown => Header::Local,
    };
    Parse::Done { header, len }
}

/// A relayed datagram, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    pub source: SocketAddr,
    pub destination: SocketAddr,
    pub sensor: Option<SensorName>,
    /// Where the payload starts (the header's length).
    pub payload: usize,
}

/// A whole datagram that starts with a header for a datagram (`DGRAM`);
/// `None` for anything else.
pub fn datagram(d: &[u8]) -> Option<Datagram> {
    match parse(d) {
        Parse::Done {
            header:
                Header::Proxy {
                    source,
                    destination,
                    datagram: true,
                    sensor,
                },
            len,
        } => Some(Datagram {
            source,
            destination,
            sensor,
            payload: len,
        }),
        _ => None,
    }
}

/// A version 2 header for a relayed connection or datagram (the sensor's
/// side, and the tests'); `sensor` adds the [`TLV_SENSOR`].
pub fn encode_v2(
    source: SocketAddr,
    destination: SocketAddr,
    datagram: bool,
    sensor: Option<&str>,
) -> Vec<u8> {
    let protocol = if datagram {
        ppp::v2::Protocol::Datagram
    } else {
        ppp::v2::Protocol::Stream
    };
    let family = if source.is_ipv4() && destination.is_ipv4() {
        ppp::v2::AddressFamily::IPv4
    } else {
        ppp::v2::AddressFamily::IPv6
    };
    let v6 = |a: SocketAddr| match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    };
    let addresses: ppp::v2::Addresses = if family == ppp::v2::AddressFamily::IPv4 {
        (source, destination).into()
    } else {
        (v6(source), v6(destination)).into()
    };
    let b = ppp::v2::Builder::with_addresses(
        ppp::v2::Version::Two | ppp::v2::Command::Proxy,
        protocol,
        addresses,
    );
    let b = match sensor {
        Some(name) => b.write_tlv(TLV_SENSOR, name.as_bytes()),
        None => Ok(b),
    };
    b.and_then(|b| b.build()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// Feed `bytes` as a reader would: exactly what `Need` asks, no more.
    fn feed(bytes: &[u8]) -> (Parse, usize) {
        let mut have = 0;
        loop {
            match parse(&bytes[..have]) {
                Parse::Need(n) if n <= bytes.len() => {
                    assert!(n > have, "asks for nothing new");
                    have = n;
                }
                other => return (other, have),
            }
        }
    }

    #[test]
    fn version_2_from_the_encoder_and_the_client_bytes_untouched() {
        for (s, d) in [
            ("198.51.100.7:40123", "203.0.113.5:23"),
            ("[2001:db8::7]:40123", "[2001:db8::1]:23"),
        ] {
            let mut wire = encode_v2(addr(s), addr(d), false, None);
            let len = wire.len();
            wire.extend_from_slice(b"root\r\n");
            let (p, read) = feed(&wire);
            assert_eq!(
                p,
                Parse::Done {
                    header: Header::Proxy {
                        source: addr(s),
                        destination: addr(d),
                        datagram: false,
                        sensor: None,
                    },
                    len
                }
            );
            assert_eq!(read, len, "read past the header");
        }
        let dgram = encode_v2(
            addr("198.51.100.7:5000"),
            addr("203.0.113.5:53413"),
            true,
            None,
        );
        assert!(matches!(
            parse(&dgram),
            Parse::Done {
                header: Header::Proxy { datagram: true, .. },
                ..
            }
        ));
    }

    #[test]
    fn the_sensor_tlv_comes_back() {
        let wire = encode_v2(
            addr("198.51.100.7:40123"),
            addr("203.0.113.5:23"),
            false,
            Some("tokyo-1"),
        );
        match parse(&wire) {
            Parse::Done {
                header: Header::Proxy {
                    sensor: Some(s), ..
                },
                len,
            } => {
                assert_eq!(s.as_str(), "tokyo-1");
                assert_eq!(len, wire.len());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn version_1_as_haproxy_sends_it() {
        let wire = b"PROXY TCP4 198.51.100.7 203.0.113.5 40123 23\r\nroot\r\n";
        let (p, read) = feed(wire);
        assert_eq!(read, 46);
        assert_eq!(
            p,
            Parse::Done {
                header: Header::Proxy {
                    source: addr("198.51.100.7:40123"),
                    destination: addr("203.0.113.5:23"),
                    datagram: false,
                    sensor: None,
                },
                len: 46
            }
        );
        assert_eq!(
            feed(b"PROXY UNKNOWN\r\nGET / HTTP/1.0\r\n\r\n").0,
            Parse::Done {
                header: Header::Local,
                len: 15
            }
        );
    }

    #[test]
    fn no_header_a_huge_one_or_an_endless_line_is_refused() {
        assert!(matches!(feed(b"root\r\nxc3511\r\n").0, Parse::Invalid(_)));
        assert!(matches!(
            feed(b"GET / HTTP/1.1\r\n\r\n").0,
            Parse::Invalid(_)
        ));
        let mut huge = V2_SIGNATURE.to_vec();
        huge.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
        assert!(matches!(parse(&huge), Parse::Invalid(_)));
        let endless = [b"PROXY TCP4 ".as_slice(), &[b'1'; 200]].concat();
        assert!(matches!(feed(&endless).0, Parse::Invalid(_)));
        // Found by the fuzzer: UTF-8 in a version 1 line.
        assert!(matches!(
            parse("PROXY  \u{38e}\u{38e}\r\n".as_bytes()),
            Parse::Invalid(_)
        ));
        // Cut short: it asks for more, never decides on a partial header.
        let wire = encode_v2(addr("198.51.100.7:1"), addr("203.0.113.5:23"), false, None);
        for cut in 0..wire.len() {
            assert!(matches!(parse(&wire[..cut]), Parse::Need(n) if n > cut));
        }
    }
}
