//! A device's TLS certificate, read from the handshake in the clear.
//!
//! Up to TLS 1.2 the server's Certificate message is sent unencrypted right
//! after its ServerHello, so the certificate is read without finishing the
//! handshake: no cipher the device picks matters, and old devices that speak
//! only TLS 1.0 or offer only RSA key exchange (a real IoT population, which
//! modern TLS libraries refuse) give theirs like any other. The ClientHello
//! offers TLS 1.0 to 1.2 and the suites such devices use. A server that
//! speaks only TLS 1.3 encrypts its certificate: it is reported as such.

use iotpot_core::profiler::Certificate;

/// Suites offered, newest first: ECDHE/AES-GCM, ECDHE/AES-CBC, DHE, and the
/// RSA key exchange and 3DES/RC4 suites of old embedded servers.
const SUITES: &[u16] = &[
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a, 0xc014, 0x009e, 0x009f,
    0x0033, 0x0039, 0x009c, 0x009d, 0x002f, 0x0035, 0x003c, 0x003d, 0x000a, 0xc012, 0x0016, 0x0005,
    0x0004,
];

/// A ClientHello (TLS 1.2, in a TLS 1.0 record, as browsers sent it).
pub fn client_hello(random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&((SUITES.len() * 2) as u16).to_be_bytes());
    for s in SUITES {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // null compression
    let mut ext = Vec::new();
    // supported_groups: x25519, secp256r1, secp384r1.
    ext.extend_from_slice(&[
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
    ]);
    // ec_point_formats: uncompressed.
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ECDSA/RSA-PSS/RSA with SHA-256/384/512, RSA-SHA1.
    let algs: &[u16] = &[
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201,
    ];
    ext.extend_from_slice(&[0x00, 0x0d]);
    ext.extend_from_slice(&((algs.len() * 2 + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
    for a in algs {
        ext.extend_from_slice(&a.to_be_bytes());
    }
    // renegotiation_info (empty): some old servers want it.
    ext.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// What the server's first flight says so far.
#[derive(Debug, Default, PartialEq)]
pub struct Flight {
    /// `TLS 1.0`... from the ServerHello.
    pub version: Option<String>,
    pub cipher: Option<u16>,
    /// The leaf certificate's DER.
    pub certificate: Option<Vec<u8>>,
    /// Whether the flight is over (ServerHelloDone, an alert, a TLS 1.3
    /// ServerHello, or bytes that are not TLS).
    pub done: bool,
    /// Why there is no certificate: `alert 40`, `TLS 1.3`, `not TLS`.
    pub problem: Option<String>,
}

/// Read the server's records: the handshake messages reassembled across
/// records, up to its certificate.
pub fn flight(data: &[u8]) -> Flight {
    let mut f = Flight::default();
    let mut handshake = Vec::new();
    let mut rest = data;
    while rest.len() >= 5 {
        let (kind, len) = (rest[0], u16::from_be_bytes([rest[3], rest[4]]) as usize);
        if rest[1] != 3 || !(kind == 21 || kind == 22) {
            f.problem = Some("not TLS".into());
            f.done = true;
            return f;
        }
        let Some(payload) = rest.get(5..5 + len) else {
            break;
        };
        if kind == 21 {
            f.problem = Some(format!("alert {}", payload.get(1).copied().unwrap_or(0)));
            f.done = true;
            return f;
        }
        handshake.extend_from_slice(payload);
        rest = &rest[5 + len..];
    }
    if !rest.is_empty() && rest.len() < 5 && rest[0] != 22 && rest[0] != 21 {
        f.problem = Some("not TLS".into());
        f.done = true;
    }
    let mut msgs = handshake.as_slice();
    while msgs.len() >= 4 {
        let (kind, len) = (
            msgs[0],
            u32::from_be_bytes([0, msgs[1], msgs[2], msgs[3]]) as usize,
        );
        let Some(body) = msgs.get(4..4 + len) else {
            break;
        };
        match kind {
            2 => server_hello(body, &mut f),
            11 => {
                // certificate_list<3>, each cert<3>.
                if body.len() >= 6 {
                    let first = u32::from_be_bytes([0, body[3], body[4], body[5]]) as usize;
                    f.certificate = body.get(6..6 + first).map(<[u8]>::to_vec);
                }
                f.done = true;
            }
            14 => f.done = true,
            _ => {}
        }
        msgs = &msgs[4 + len..];
    }
    f
}

fn server_hello(body: &[u8], f: &mut Flight) {
    let Some(&[major, minor]) = body.get(..2) else {
        return;
    };
    let sid = body.get(34).copied().unwrap_or(0) as usize;
    f.cipher = body
        .get(35 + sid..37 + sid)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    // TLS 1.3 says so in supported_versions; its certificate is encrypted.
    let exts = body.get(38 + sid..).unwrap_or(&[]);
    let tls13 = exts
        .windows(6)
        .any(|w| w == [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    f.version = Some(match (major, minor, tls13) {
        (_, _, true) => "TLS 1.3".into(),
        (3, 0, _) => "SSL 3.0".into(),
        (3, m, _) => format!("TLS 1.{}", m - 1),
        _ => format!("{major}.{minor}"),
    });
    if tls13 {
        f.problem = Some("TLS 1.3 (the certificate is encrypted)".into());
        f.done = true;
    }
}

/// The certificate's names (RFC 2253, as Recog's X.509 files match them),
/// validity and SHA-256.
pub fn certificate(der: &[u8], version: Option<String>, cipher: Option<u16>) -> Certificate {
    let mut c = Certificate {
        sha256: iotpot_core::sample::sha256_hex(der),
        version: version.unwrap_or_default(),
        cipher: cipher.map(|c| format!("0x{c:04x}")).unwrap_or_default(),
        ..Certificate::default()
    };
    let parsed = (|| {
        let (_, cert, _) = der_next(der)?; // Certificate
        let (_, mut tbs, _) = der_next(cert)?; // tbsCertificate
        let (tag, _, rest) = der_next(tbs)?;
        if tag == 0xa0 {
            tbs = rest; // [0] version
        }
        let (_, _, rest) = der_next(tbs)?; // serialNumber
        let (_, _, rest) = der_next(rest)?; // signature
        let (_, issuer, rest) = der_next(rest)?;
        let (_, validity, rest) = der_next(rest)?;
        let (_, subject, _) = der_next(rest)?;
        let (t1, nb, rest) = der_next(validity)?;
        let (t2, na, _) = der_next(rest)?;
        Some((
            rfc2253(issuer),
            rfc2253(subject),
            time(t1, nb),
            time(t2, na),
        ))
    })();
    if let Some((issuer, subject, not_before, not_after)) = parsed {
        c.issuer = issuer;
        c.subject = subject;
        c.not_before = not_before;
        c.not_after = not_after;
    }
    c
}

/// One DER element: (tag, contents, what follows).
fn der_next(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *d.first()?;
    let first = *d.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, d.get(start..end)?, &d[end..]))
}

/// UTCTime / GeneralizedTime as ISO 8601 (`2025-01-31T12:00:00Z`).
fn time(tag: u8, v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    // Only digits are cut into fields: a certificate's bytes are the
    // device's (an attacker's), and a cut inside a character would panic.
    let digits =
        |t: &str, n: usize| t.len() >= n && t.as_bytes()[..n].iter().all(u8::is_ascii_digit);
    let full = match tag {
        0x17 if digits(&s, 12) => {
            let yy: u32 = s[..2].parse().unwrap_or(0);
            format!("{}{}", if yy < 50 { "20" } else { "19" }, s)
        }
        _ => s.into_owned(),
    };
    if !digits(&full, 14) {
        return full;
    }
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[0..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    )
}

/// A Name as RFC 2253 writes it: the last RDN first, `,` between RDNs, `+`
/// within one, the usual short names, special characters escaped.
fn rfc2253(name: &[u8]) -> String {
    let mut rdns = Vec::new();
    let mut rest = name;
    while let Some((_, set, next)) = der_next(rest) {
        let mut atvs = Vec::new();
        let mut inner = set;
        while let Some((_, atv, more)) = der_next(inner) {
            if let Some((0x06, oid, after)) = der_next(atv) {
                if let Some((vtag, value, _)) = der_next(after) {
                    let key = short_name(oid).map_or_else(|| dotted(oid), str::to_string);
                    let text = match (short_name(oid), vtag) {
                        (Some(_), 0x0c | 0x13 | 0x16 | 0x14 | 0x1a) => {
                            escape(&String::from_utf8_lossy(value))
                        }
                        (Some(_), 0x1e) => escape(&bmp(value)),
                        _ => format!(
                            "#{}",
                            hex::encode(&after[..after.len() - der_rest_len(after)])
                        ),
                    };
                    atvs.push(format!("{key}={text}"));
                }
            }
            inner = more;
        }
        rdns.push(atvs.join("+"));
        rest = next;
    }
    rdns.reverse();
    rdns.join(",")
}

fn der_rest_len(d: &[u8]) -> usize {
    der_next(d).map_or(0, |(_, _, r)| r.len())
}

fn bmp(v: &[u8]) -> String {
    let units: Vec<u16> = v
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x09] => "STREET",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

fn dotted(oid: &[u8]) -> String {
    let Some(&first) = oid.first() else {
        return String::new();
    };
    let mut parts = vec![
        (first / 40).min(2) as u64,
        (first as u64).saturating_sub(40 * (first / 40).min(2) as u64),
    ];
    let mut v: u64 = 0;
    for &b in &oid[1..] {
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            parts.push(v);
            v = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_times_and_oids() {
        // SEQUENCE { SET { SEQ { OID C, PrintableString "TW" } },
        //            SET { SEQ { OID O, UTF8String "Acme, Inc" } },
        //            SET { SEQ { OID CN, UTF8String "cam" } } }
        let name = [
            0x30, 0x2f, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'T',
            b'W', 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x09, b'A', b'c',
            b'm', b'e', b',', b' ', b'I', b'n', b'c', 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
            0x04, 0x03, 0x0c, 0x03, b'c', b'a', b'm',
        ];
        let (_, inner, _) = der_next(&name).unwrap();
        assert_eq!(rfc2253(inner), "CN=cam,O=Acme\\, Inc,C=TW");
        assert_eq!(time(0x17, b"250131120000Z"), "2025-01-31T12:00:00Z");
        // Not digits (a character across a field's edge): kept as it is,
        // never cut (the fuzzer found the panic).
        let odd = "20250\u{a3}31120000Z";
        assert_eq!(time(0x18, odd.as_bytes()), odd);
        let odd = "2\u{e9}0131120000Z";
        assert_eq!(time(0x17, odd.as_bytes()), odd);
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
        assert!(der_next(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn a_flight_split_anywhere_or_hostile_never_panics() {
        let hello = client_hello([7; 32]);
        assert_eq!(hello[0], 22);
        let f = flight(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        assert_eq!(f.problem.as_deref(), Some("not TLS"));
        let f = flight(&[21, 3, 1, 0, 2, 2, 40]);
        assert_eq!(f.problem.as_deref(), Some("alert 40"));
        for cut in 0..hello.len() {
            let _ = flight(&hello[..cut]);
        }
    }
}
