//! Escaping attacker strings for a human's terminal.
//!
//! Anything an attacker typed may hold escape sequences that would drive the
//! operator's terminal (retitle it, move the cursor, hide text). Printed
//! through [`for_terminal`], every control character and every byte that is not
//! valid UTF-8 becomes a visible `\xNN`, `\n`, `\r`, `\t` or `\\`.

/// Escape bytes for a terminal, keeping printable UTF-8 as it is.
pub fn for_terminal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() || is_bidi_control(c) => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Escape a string (already UTF-8) for a terminal.
pub fn str_for_terminal(s: &str) -> String {
    for_terminal(s.as_bytes())
}

/// Characters that reorder displayed text (the "Trojan Source" trick).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Bytes as a lossless string for storage: valid UTF-8 stays as is, other
/// bytes become `\xNN` (and a literal backslash is doubled only when the input
/// needed escaping, so plain commands read naturally).
pub fn bytes_to_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// The entities of HTML and XML text that devices and exploits write
/// (`&lt;` `&gt;` `&quot;` `&apos;` `&#39;` `&nbsp;` `&amp;`), as the
/// characters they stand for (`&amp;` last, so `&amp;lt;` stays `&lt;`).
pub fn unescape_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(for_terminal(b"ls -la"), "ls -la");
        assert_eq!(for_terminal(b"\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
        assert_eq!(for_terminal(b"a\r\nb\\"), "a\\r\\nb\\\\");
        assert_eq!(for_terminal(b"\xff\xfe"), "\\xff\\xfe");
        assert_eq!(for_terminal("é\u{202e}x".as_bytes()), "é\\xe2\\x80\\xaex");
        assert_eq!(for_terminal("\u{9b}2J".as_bytes()), "\\xc2\\x9b2J");
    }
}
