//! Untrusted text made inert for a terminal.
//!
//! Requests, rosters and certificates are written by whoever runs the bastion. Printed as
//! they are, a newline in a summary forges a line of `ceremony show`, and an escape sequence
//! can move the cursor, recolour or erase what a member reads before approving. Every
//! string that comes from a file goes through [`inert`] before it is printed: what is not
//! plainly visible is shown as an escape, so the output has no newlines, escapes or
//! invisible characters that the data put there.

use std::fmt::Write as _;

/// `text` with every character that is not plainly visible escaped as `\u{…}`: control
/// characters (C0, DEL, C1), Unicode format characters (zero-width, bidi
/// overrides and isolates, BOM, tags), line and paragraph separators, and non-characters.
#[must_use]
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_visible(c) {
            out.push(c);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        }
    }
    out
}

/// Whether `text` would print unchanged through [`inert`].
#[must_use]
pub fn is_inert(text: &str) -> bool {
    text.chars().all(is_visible)
}

fn is_visible(c: char) -> bool {
    !(c.is_control() || is_format_or_separator(c) || is_noncharacter(c))
}

/// Unicode general categories Cf (format), Zl and Zp (line/paragraph separators), and the
/// invisible fillers and operators that render as nothing; listed by range because std has
/// no category lookup.
fn is_format_or_separator(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD              // soft hyphen
        | 0x034F            // combining grapheme joiner
        | 0x061C            // Arabic letter mark
        | 0x115F | 0x1160   // Hangul fillers
        | 0x17B4 | 0x17B5   // Khmer invisible vowels
        | 0x180B..=0x180F   // Mongolian variation selectors and vowel separator
        | 0x200B..=0x200F   // zero-width space/joiners, LRM, RLM
        | 0x2028..=0x202E   // line/paragraph separators, bidi embeddings and overrides
        | 0x2060..=0x206F   // word joiner, invisible operators, bidi isolates
        | 0x3164            // Hangul filler
        | 0xFE00..=0xFE0F   // variation selectors
        | 0xFEFF            // BOM / zero-width no-break space
        | 0xFFA0            // half-width Hangul filler
        | 0xFFF9..=0xFFFB   // interlinear annotation
        | 0x1D173..=0x1D17A // musical formatting
        | 0xE0000..=0xE0FFF // tags and variation selectors supplement
    )
}

fn is_noncharacter(c: char) -> bool {
    let v = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&v) || (v & 0xFFFE) == 0xFFFE || (0xE000..=0xF8FF).contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_escapes_and_invisibles_are_shown_escaped() {
        let hostile = "ok\n  read aloud: 0000-0000\x1b[2J\r\u{202e}evil\u{200b}\u{7f}";
        let shown = inert(hostile);
        assert_eq!(
            shown,
            "ok\\u{000a}  read aloud: 0000-0000\\u{001b}[2J\\u{000d}\\u{202e}evil\\u{200b}\\u{007f}"
        );
        assert!(!shown.chars().any(char::is_control));
        assert!(!is_inert(hostile));
    }

    #[test]
    fn ordinary_text_in_any_script_is_kept() {
        for text in [
            "Rust Foundation",
            "Zürich – Ørsted",
            "東京",
            "Ελλάδα",
            "a-b_c.d",
        ] {
            assert_eq!(inert(text), text);
            assert!(is_inert(text));
        }
    }
}
