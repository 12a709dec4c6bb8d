//! gpg's machine-readable status lines (`[GNUPG:] KEYWORD args`), the interface git reads
//! (git's gpg-interface: it requires `SIG_CREATED` after signing and `GOODSIG` when
//! verifying, each after a newline, and reads `VALIDSIG` and `TRUST_*`).

use std::io::Write;

/// Where status lines go: git passes `--status-fd=2` to sign and `--status-fd=1` to verify.
#[derive(Clone, Copy, Debug)]
pub enum StatusFd {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl StatusFd {
    /// Parses `--status-fd`'s value: only 1 and 2 (the program opens no other descriptor).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "1" => Ok(Self::Stdout),
            "2" => Ok(Self::Stderr),
            other => Err(format!("status fd {other:?}: only 1 and 2 are supported")),
        }
    }

    /// Writes `[GNUPG:] KEYWORD ARGS`. Arguments are made inert first: a certificate subject
    /// with a newline must not forge a status line.
    pub fn line(self, keyword: &str, args: &[&str]) {
        let mut line = format!("[GNUPG:] {keyword}");
        for arg in args {
            line.push(' ');
            line.push_str(&inert(arg));
        }
        line.push('\n');
        // A closed status stream leaves git nothing to read; nothing more to do about it.
        let _ = match self {
            Self::Stdout => std::io::stdout().write_all(line.as_bytes()),
            Self::Stderr => std::io::stderr().write_all(line.as_bytes()),
        };
    }
}

/// `text` with control characters and `%` percent-escaped (as gpg escapes user ids), so it
/// stays on one line and cannot drive a terminal.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '%' {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn subjects_cannot_forge_status_lines() {
        assert_eq!(
            inert("CN=x\n[GNUPG:] GOODSIG 1 evil"),
            "CN=x%0A[GNUPG:] GOODSIG 1 evil"
        );
        assert_eq!(inert("a\u{1b}[2Jb%c\u{85}"), "a%1B[2Jb%25c%C2%85");
        assert_eq!(inert("CN=Zoë"), "CN=Zoë");
    }
}
