//! DNS questions as samples send them, and the sinkhole's answers
//! (sans-I/O; the bytes are hostile).

/// The first question of a DNS query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    /// Recursion desired, echoed in the answer.
    pub rd: bool,
    /// The name, labels joined with `.` (bytes outside printable ASCII
    /// replaced).
    pub name: String,
    pub qtype: u16,
    /// The question section as sent (name, type, class).
    raw: Vec<u8>,
}

/// Most labels in a name.
const MAX_LABELS: usize = 127;

impl Question {
    /// A query's first question (`None` for a response, no question, a
    /// compressed or truncated name).
    pub fn parse(msg: &[u8]) -> Option<Question> {
        if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
            return None;
        }
        let mut i = 12;
        let mut labels = Vec::new();
        loop {
            let n = *msg.get(i)? as usize;
            if n == 0 {
                break;
            }
            if n > 63 || labels.len() >= MAX_LABELS {
                return None;
            }
            let label = msg.get(i + 1..i + 1 + n)?;
            labels.push(String::from_utf8_lossy(label).into_owned());
            i += 1 + n;
        }
        let end = i + 5;
        let tail = msg.get(i + 1..end)?;
        if labels.is_empty() {
            return None;
        }
        Some(Question {
            id: u16::from_be_bytes([msg[0], msg[1]]),
            rd: msg[2] & 0x01 != 0,
            name: labels.join("."),
            qtype: u16::from_be_bytes([tail[0], tail[1]]),
            raw: msg[12..end].to_vec(),
        })
    }

    /// The response: one A record (TTL 60) when `addr` is given, otherwise
    /// no answer (NOERROR for other types; the caller passes `None` when
    /// it has no address left, which reads as an empty answer too).
    pub fn answer(&self, addr: Option<[u8; 4]>) -> Vec<u8> {
        let mut r = Vec::with_capacity(self.raw.len() + 28);
        r.extend_from_slice(&self.id.to_be_bytes());
        // QR, opcode 0, AA; RD as asked; RA.
        r.push(0x84 | u8::from(self.rd));
        r.push(0x80);
        r.extend_from_slice(&[0, 1, 0, u8::from(addr.is_some()), 0, 0, 0, 0]);
        r.extend_from_slice(&self.raw);
        if let Some(a) = addr {
            // Name: a pointer to the question's; type A, class IN, TTL 60.
            r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            r.extend_from_slice(&a);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8], qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(name);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&[0, 1]);
        q
    }

    #[test]
    fn parses_and_answers() {
        let q = query(b"\x03cnc\x07example\x03com\x00", 1);
        let p = Question::parse(&q).unwrap();
        assert_eq!(
            (p.name.as_str(), p.qtype, p.id, p.rd),
            ("cnc.example.com", 1, 0x1234, true)
        );
        let a = p.answer(Some([198, 18, 0, 1]));
        assert_eq!(&a[..4], &[0x12, 0x34, 0x85, 0x80]);
        assert_eq!(&a[6..8], &[0, 1]);
        assert_eq!(&a[12..q.len()], &q[12..]);
        assert_eq!(&a[a.len() - 4..], &[198, 18, 0, 1]);
        let none = p.answer(None);
        assert_eq!(none.len(), q.len());
        assert_eq!(&none[6..8], &[0, 0]);
    }

    #[test]
    fn refuses_broken() {
        let q = query(b"\x03cnc\x07example\x03com\x00", 1);
        for cut in 0..q.len() {
            assert!(Question::parse(&q[..cut]).is_none(), "cut at {cut}");
        }
        let mut resp = q.clone();
        resp[2] |= 0x80;
        assert!(Question::parse(&resp).is_none());
        assert!(Question::parse(&query(b"\xc0\x0c", 1)).is_none());
        assert!(Question::parse(&query(b"\x00", 1)).is_none());
    }
}
