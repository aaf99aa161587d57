//! The line discipline of an emulated device's terminal.
//!
//! Clients end lines in every way the Telnet RFCs allow and some they do not:
//! `\r\n`, `\r\0`, a bare `\r`, a bare `\n`, and bots sometimes `\0`. One
//! terminator never counts twice (`\r\n` is one line, not a line and an empty
//! one), even when it is split across reads.
//!
//! [`LineDiscipline::feed`] stops after each complete line, because what comes
//! next may need another echo mode (a password is not echoed) and the caller
//! must act on the line first.

/// A complete unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// A line without its terminator. `truncated` counts bytes dropped
    /// because the line was longer than the limit.
    Line { bytes: Vec<u8>, truncated: usize },
    /// ^C: the line typed so far is discarded.
    Interrupt,
    /// ^D on an empty line.
    Eof,
}

#[derive(Debug, Clone, Default)]
pub struct LineDiscipline {
    buf: Vec<u8>,
    max: usize,
    truncated: usize,
    /// The last byte was a CR: a following LF or NUL belongs to it.
    after_cr: bool,
}

impl LineDiscipline {
    /// `max`: the longest line kept; longer lines are cut and the excess counted.
    pub fn new(max: usize) -> LineDiscipline {
        LineDiscipline {
            max,
            ..LineDiscipline::default()
        }
    }

    /// Bytes of the line typed so far.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Feed data up to the end of the first complete line. Returns how many
    /// bytes were consumed and the event, if one completed. With `echo`, the
    /// bytes a terminal would show are appended to `echo_out`.
    pub fn feed(
        &mut self,
        data: &[u8],
        echo: bool,
        echo_out: &mut Vec<u8>,
    ) -> (usize, Option<LineEvent>) {
        // A line taken leaves no room behind (an idle session keeps none):
        // make room for what came at once, not a byte at a time.
        if self.buf.capacity() == 0 {
            self.buf.reserve(data.len().min(self.max));
        }
        if echo {
            echo_out.reserve(data.len());
        }
        for (i, &b) in data.iter().enumerate() {
            let after_cr = std::mem::take(&mut self.after_cr);
            let event = match b {
                b'\r' => {
                    self.after_cr = true;
                    Some(self.take_line())
                }
                b'\n' | 0 if after_cr => None,
                b'\n' => Some(self.take_line()),
                // A lone NUL ends a non-empty line (`enable\0`).
                0 if !self.buf.is_empty() => Some(self.take_line()),
                0 => None,
                0x03 => {
                    self.buf.clear();
                    self.truncated = 0;
                    if echo {
                        echo_out.extend_from_slice(b"^C\r\n");
                    }
                    Some(LineEvent::Interrupt)
                }
                0x04 if self.buf.is_empty() => Some(LineEvent::Eof),
                0x08 | 0x7f => {
                    if self.buf.pop().is_some() && echo {
                        echo_out.extend_from_slice(b"\x08 \x08");
                    }
                    None
                }
                0x15 => {
                    // ^U: kill the line.
                    if echo {
                        for _ in 0..self.buf.len() {
                            echo_out.extend_from_slice(b"\x08 \x08");
                        }
                    }
                    self.buf.clear();
                    None
                }
                _ => {
                    if self.buf.len() < self.max {
                        self.buf.push(b);
                        if echo && (b >= 0x20 || b == b'\t') {
                            echo_out.push(b);
                        }
                    } else {
                        self.truncated += 1;
                    }
                    None
                }
            };
            if let Some(event) = event {
                if echo && matches!(event, LineEvent::Line { .. }) {
                    echo_out.extend_from_slice(b"\r\n");
                }
                return (i + 1, Some(event));
            }
        }
        (data.len(), None)
    }

    fn take_line(&mut self) -> LineEvent {
        let truncated = std::mem::take(&mut self.truncated);
        let bytes = std::mem::take(&mut self.buf);
        LineEvent::Line { bytes, truncated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<LineEvent> {
        let mut ld = LineDiscipline::new(16);
        let mut out = Vec::new();
        let mut echo = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            while !rest.is_empty() {
                let (n, ev) = ld.feed(rest, false, &mut echo);
                rest = &rest[n..];
                out.extend(ev);
            }
        }
        out
    }

    fn line(s: &str) -> LineEvent {
        LineEvent::Line {
            bytes: s.as_bytes().to_vec(),
            truncated: 0,
        }
    }

    #[test]
    fn every_terminator_counts_once() {
        assert_eq!(
            lines(&[b"a\r\nb\r\0c\nd\re\0\0f\r", b"\ng\r", b"\0"]),
            vec![
                line("a"),
                line("b"),
                line("c"),
                line("d"),
                line("e"),
                line("f"),
                line("g")
            ]
        );
        assert_eq!(lines(&[b"\r\n\r\n"]), vec![line(""), line("")]);
    }

    #[test]
    fn editing_and_limits() {
        assert_eq!(lines(&[b"ab\x7fc\x08d\r\n"]), vec![line("ad")]);
        assert_eq!(
            lines(&[b"0123456789abcdefXYZ\n"]),
            vec![LineEvent::Line {
                bytes: b"0123456789abcdef".to_vec(),
                truncated: 3
            }]
        );
        assert_eq!(
            lines(&[b"ab\x03\x04"]),
            vec![LineEvent::Interrupt, LineEvent::Eof]
        );
    }

    #[test]
    fn echo_stops_at_each_line() {
        let mut ld = LineDiscipline::new(64);
        let mut echo = Vec::new();
        let (n, ev) = ld.feed(b"root\r\nsecret\r\n", true, &mut echo);
        assert_eq!(n, 5);
        assert_eq!(ev, Some(line("root")));
        assert_eq!(echo, b"root\r\n");
        echo.clear();
        let (_, ev) = ld.feed(b"\nsecret\r\n", false, &mut echo);
        assert_eq!(ev, Some(line("secret")));
        assert!(echo.is_empty());
    }
}
