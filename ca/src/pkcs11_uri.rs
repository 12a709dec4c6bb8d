//! RFC 7512 PKCS#11 URIs naming a key: which module, token and object, and where the
//! PIN comes from.
//!
//! `pkcs11:token=rust-root;object=root-2026;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`
//!
//! Written here rather than taken from the `pkcs11-uri` crate, which pulls in the
//! unmaintained `pkcs11` 0.5 C bindings and `anyhow`.
//!
//! Deliberately narrower than RFC 7512: only the attributes this tool acts on are
//! accepted, so a URI never silently means less than it says. `pin-value` is refused.
//! Errors never quote the URI (a refused one may hold a PIN), only attribute names.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::pin::PinSource;
use crate::{Error, Result};

/// Characters left unencoded in path attribute values (RFC 7512 `pk11-pchar` without
/// `&`, which some tools mishandle).
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',');

/// Characters left unencoded in query attribute values (RFC 7512 `pk11-qchar`).
const QUERY_VALUE: &AsciiSet = &PATH_VALUE.remove(b'/').remove(b'?').remove(b'|');

/// A PKCS#11 URI that names one key pair in one token of one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token=`: the token label (CKA_LABEL of the token, exact match).
    pub token: String,
    /// `object=`: the key's CKA_LABEL.
    pub object: String,
    /// `id=`: the key's CKA_ID, if the URI pins it.
    pub id: Option<Vec<u8>>,
    /// `module-path=`: absolute path of the PKCS#11 module to load.
    pub module_path: PathBuf,
    /// `pin-source=`: where the user PIN is read from.
    pub pin_source: Option<PinSource>,
}

impl Pkcs11Uri {
    /// The same URI without its `pin-source`: for logs, errors and descriptions.
    #[must_use]
    pub fn without_pin_source(&self) -> Self {
        Self {
            pin_source: None,
            ..self.clone()
        }
    }
}

impl FromStr for Pkcs11Uri {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let rest = s
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("pkcs11:"))
            .and_then(|_| s.get(7..))
            .ok_or_else(|| syntax("it does not start with `pkcs11:`"))?;
        if rest.contains('#') {
            return Err(syntax("a fragment (`#`) is not allowed"));
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = split_attributes(path, ';')?;
        let query = split_attributes(query, '&')?;
        // Before anything else, so that a URI with a PIN in it is always refused as such.
        if path
            .iter()
            .chain(&query)
            .any(|(name, _)| *name == "pin-value")
        {
            return Err(Error::Pkcs11UriPinValue);
        }

        let mut uri = Parsed::default();
        for (name, value) in path {
            match name {
                "token" => set(&mut uri.token, name, decode_text(name, value)?)?,
                "object" => set(&mut uri.object, name, decode_text(name, value)?)?,
                "id" => set(&mut uri.id, name, decode_bytes(name, value)?)?,
                "type" => {
                    // We only ever name private keys (their public halves are found by the
                    // same label and id); other types would be a mistake.
                    if decode_text(name, value)? != "private" {
                        return Err(invalid(name, "only `type=private` is supported"));
                    }
                    set(&mut uri.key_type, name, ())?;
                }
                _ => return Err(unknown(name)),
            }
        }
        for (name, value) in query {
            match name {
                "module-path" => {
                    let path = PathBuf::from(decode_text(name, value)?);
                    // A relative name would go through the dynamic loader's search path.
                    if !path.is_absolute() {
                        return Err(invalid(name, "must be an absolute path"));
                    }
                    set(&mut uri.module_path, name, path)?;
                }
                "pin-source" => {
                    let source = decode_text(name, value)?.parse()?;
                    set(&mut uri.pin_source, name, source)?;
                }
                _ => return Err(unknown(name)),
            }
        }

        Ok(Self {
            token: uri.token.ok_or(missing("token"))?,
            object: uri.object.ok_or(missing("object"))?,
            id: uri.id,
            module_path: uri.module_path.ok_or(missing("module-path"))?,
            pin_source: uri.pin_source,
        })
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pkcs11:token={};object={}",
            utf8_percent_encode(&self.token, PATH_VALUE),
            utf8_percent_encode(&self.object, PATH_VALUE)
        )?;
        if let Some(id) = &self.id {
            f.write_str(";id=")?;
            // RFC 7512 §2.3: `id` is a byte string, written entirely percent-encoded.
            for byte in id {
                write!(f, "%{byte:02X}")?;
            }
        }
        let module_path = self.module_path.to_string_lossy();
        write!(
            f,
            "?module-path={}",
            utf8_percent_encode(&module_path, QUERY_VALUE)
        )?;
        if let Some(source) = &self.pin_source {
            write!(
                f,
                "&pin-source={}",
                utf8_percent_encode(&source.to_string(), QUERY_VALUE)
            )?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Parsed {
    token: Option<String>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    key_type: Option<()>,
    module_path: Option<PathBuf>,
    pin_source: Option<PinSource>,
}

/// Split `a=1;b=2` into `[("a", "1"), ("b", "2")]`; an empty string gives no attributes.
fn split_attributes(s: &str, separator: char) -> Result<Vec<(&str, &str)>> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(separator)
        .map(|attribute| {
            let (name, value) = attribute
                .split_once('=')
                .ok_or_else(|| syntax("an attribute has no `=`"))?;
            if name.is_empty() {
                return Err(syntax("an attribute has an empty name"));
            }
            // Names are echoed in errors: keep them to the RFC's alphabet so that a
            // mistyped value (possibly a PIN) is never echoed as a "name".
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(syntax(
                    "an attribute name has characters outside [A-Za-z0-9-]",
                ));
            }
            Ok((name, value))
        })
        .collect()
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<()> {
    if slot.replace(value).is_some() {
        return Err(invalid(name, "appears more than once"));
    }
    Ok(())
}

/// Percent-decode a value, refusing malformed escapes, raw spaces and control characters
/// (signs of a copy-paste accident rather than of a label).
fn decode_bytes(name: &str, value: &str) -> Result<Vec<u8>> {
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            return Err(invalid(name, "has a `%` not followed by two hex digits"));
        }
        if b.is_ascii_whitespace() || b.is_ascii_control() {
            return Err(invalid(
                name,
                "has a raw space or control character (percent-encode it)",
            ));
        }
    }
    let decoded: Vec<u8> = percent_decode_str(value).collect();
    if decoded.is_empty() {
        return Err(invalid(name, "is empty"));
    }
    Ok(decoded)
}

fn decode_text(name: &str, value: &str) -> Result<String> {
    String::from_utf8(decode_bytes(name, value)?)
        .map_err(|_| invalid(name, "is not UTF-8 after percent-decoding"))
}

fn syntax(reason: &str) -> Error {
    Error::Pkcs11UriSyntax {
        reason: reason.to_owned(),
    }
}

fn invalid(attribute: &str, reason: &str) -> Error {
    Error::Pkcs11UriInvalidAttribute {
        attribute: attribute.to_owned(),
        reason: reason.to_owned(),
    }
}

fn unknown(attribute: &str) -> Error {
    Error::Pkcs11UriUnknownAttribute {
        attribute: attribute.to_owned(),
    }
}

fn missing(attribute: &'static str) -> Error {
    Error::Pkcs11UriMissingAttribute { attribute }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin";

    fn parse(s: &str) -> Result<Pkcs11Uri> {
        s.parse()
    }

    #[test]
    fn parses_the_example() {
        let uri = parse(EXAMPLE).unwrap();
        assert_eq!(
            uri,
            Pkcs11Uri {
                token: "rust-root".into(),
                object: "root-2026".into(),
                id: None,
                module_path: "/usr/lib/softhsm/libsofthsm2.so".into(),
                pin_source: Some(PinSource::File("/run/pin".into())),
            }
        );
        assert_eq!(uri.to_string(), EXAMPLE);
    }

    #[test]
    fn round_trips_percent_encoded_values_and_id() {
        let s = "pkcs11:token=Rust%20Root%3B%C3%A9;object=a%2Fb%3Dc;id=%00%FF%10?module-path=/opt/my%20hsm/lib%26.so&pin-source=env:ROOT_PIN";
        let uri = parse(s).unwrap();
        assert_eq!(uri.token, "Rust Root;é");
        assert_eq!(uri.object, "a/b=c");
        assert_eq!(uri.id.as_deref(), Some(&[0x00, 0xff, 0x10][..]));
        assert_eq!(uri.module_path, PathBuf::from("/opt/my hsm/lib&.so"));
        assert_eq!(uri.pin_source, Some(PinSource::Env("ROOT_PIN".into())));
        assert_eq!(uri.to_string(), s);
        assert_eq!(parse(&uri.to_string()).unwrap(), uri);
    }

    #[test]
    fn decodes_unreserved_escapes_and_accepts_type_private() {
        let uri = parse(
            "PKCS11:object=k%65y;type=private;token=t;id=AB?pin-source=fd:3&module-path=/m.so",
        )
        .unwrap();
        assert_eq!(uri.object, "key");
        assert_eq!(uri.id.as_deref(), Some(&b"AB"[..]));
        assert_eq!(uri.pin_source, Some(PinSource::Fd(3)));
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=t;object=key;id=%41%42?module-path=/m.so&pin-source=fd:3"
        );
    }

    #[test]
    fn without_pin_source_drops_only_the_pin_source() {
        let uri = parse(EXAMPLE).unwrap().without_pin_source();
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so"
        );
    }

    #[test]
    fn rejects_pin_value_and_explains_why_without_echoing_it() {
        for s in [
            "pkcs11:token=t;object=o?module-path=/m.so&pin-value=123456",
            "pkcs11:token=t;object=o;pin-value=123456?module-path=/m.so",
            // Refused as pin-value even when something else is wrong too.
            "pkcs11:token=t;bogus=1?pin-value=123456",
        ] {
            let err = parse(s).unwrap_err();
            assert!(matches!(err, Error::Pkcs11UriPinValue), "{s}: {err}");
            let msg = err.to_string();
            assert!(
                msg.contains("command line") && msg.contains("pin-source"),
                "{msg}"
            );
            assert!(!msg.contains("123456"), "{msg}");
        }
    }

    #[test]
    fn rejects_unknown_attributes_by_name() {
        for (s, name) in [
            (
                "pkcs11:token=t;object=o;serial=42?module-path=/m.so",
                "serial",
            ),
            (
                "pkcs11:token=t;object=o;slot-id=1?module-path=/m.so",
                "slot-id",
            ),
            (
                "pkcs11:token=t;object=o?module-path=/m.so&module-name=softhsm2",
                "module-name",
            ),
            ("pkcs11:token=t;object=o?module-path=/m.so&pin=1234", "pin"),
        ] {
            let err = parse(s).unwrap_err();
            assert!(
                matches!(&err, Error::Pkcs11UriUnknownAttribute { attribute } if attribute == name),
                "{s}: {err}"
            );
            assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
            assert!(!err.to_string().contains("1234"), "{err}");
        }
    }

    #[test]
    fn rejects_missing_required_attributes_by_name() {
        for (s, name) in [
            ("pkcs11:object=o?module-path=/m.so", "token"),
            ("pkcs11:token=t?module-path=/m.so", "object"),
            ("pkcs11:token=t;object=o", "module-path"),
            ("pkcs11:token=t;object=o?pin-source=env:P", "module-path"),
        ] {
            let err = parse(s).unwrap_err();
            assert!(
                matches!(err, Error::Pkcs11UriMissingAttribute { attribute } if attribute == name),
                "{s}: {err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn rejects_invalid_values() {
        for (s, name) in [
            (
                "pkcs11:token=t;object=o;type=public?module-path=/m.so",
                "type",
            ),
            ("pkcs11:token=t;token=u;object=o?module-path=/m.so", "token"),
            ("pkcs11:token=;object=o?module-path=/m.so", "token"),
            ("pkcs11:token=t;object=o%zz?module-path=/m.so", "object"),
            ("pkcs11:token=t;object=o%4?module-path=/m.so", "object"),
            ("pkcs11:token=t;object=o o?module-path=/m.so", "object"),
            ("pkcs11:token=t;object=%FF?module-path=/m.so", "object"),
            ("pkcs11:token=t;object=o;id=?module-path=/m.so", "id"),
            (
                "pkcs11:token=t;object=o?module-path=libsofthsm2.so",
                "module-path",
            ),
            (
                "pkcs11:token=t;object=o?module-path=/m.so&module-path=/n.so",
                "module-path",
            ),
        ] {
            let err = parse(s).unwrap_err();
            assert!(
                matches!(&err, Error::Pkcs11UriInvalidAttribute { attribute, .. } if attribute == name),
                "{s}: {err}"
            );
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for s in [
            "",
            "token=t;object=o?module-path=/m.so",
            "pkcs11",
            "pkcs11:token=t;object=o?module-path=/m.so#frag",
            "pkcs11:token=t;;object=o?module-path=/m.so",
            "pkcs11:token=t;object?module-path=/m.so",
            "pkcs11:token=t;=o?module-path=/m.so",
            "pkcs11:token=t;obj%65ct=o?module-path=/m.so",
        ] {
            let err = parse(s).unwrap_err();
            assert!(matches!(err, Error::Pkcs11UriSyntax { .. }), "{s:?}: {err}");
        }
    }

    #[test]
    fn rejects_bad_pin_source() {
        let err = parse("pkcs11:token=t;object=o?module-path=/m.so&pin-source=123456").unwrap_err();
        assert!(matches!(err, Error::PinSourceSyntax { .. }), "{err}");
        assert!(!err.to_string().contains("123456"), "{err}");
    }
}
