//! The baseline of `scripts/bench`'s signing section: raw PKCS#11 C_Sign (cryptoki, no
//! rust-pki code) of COUNT distinct SHA-384 digests with one key, over one session, as any
//! PKCS#11 client would. Prints `signatures/s: RATE` on stdout.
//!
//! Usage: raw_c_sign MODULE TOKEN_LABEL KEY_LABEL PIN_FILE COUNT

use std::error::Error;
use std::io::Write;
use std::time::Instant;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha384};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, token, label, pin_file, count] = &args[..] else {
        return Err("usage: raw_c_sign MODULE TOKEN_LABEL KEY_LABEL PIN_FILE COUNT".into());
    };
    let count: u64 = count.parse()?;
    let pkcs11 = Pkcs11::new(module)?;
    pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    let slot = pkcs11
        .get_slots_with_token()?
        .into_iter()
        .find(|slot| {
            pkcs11
                .get_token_info(*slot)
                .is_ok_and(|info| info.label() == token)
        })
        .ok_or_else(|| format!("no token labelled {token}"))?;
    let session = pkcs11.open_ro_session(slot)?;
    let pin = std::fs::read_to_string(pin_file)?;
    session.login(
        UserType::User,
        Some(&AuthPin::from(pin.trim_end_matches(['\r', '\n']))),
    )?;
    let keys = session.find_objects(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Label(label.as_bytes().to_vec()),
    ])?;
    let [key] = keys[..] else {
        return Err(format!("{} private keys labelled {label}", keys.len()).into());
    };
    // The digests are made before the clock starts: only C_Sign is timed.
    let digests: Vec<_> = (0..count)
        .map(|i| Sha384::digest(format!("bench file {i}")))
        .collect();
    let start = Instant::now();
    for digest in &digests {
        std::hint::black_box(session.sign(&Mechanism::Ecdsa, key, digest)?);
    }
    let seconds = start.elapsed().as_secs_f64();
    writeln!(
        std::io::stdout(),
        "signatures/s: {:.1}",
        count as f64 / seconds
    )?;
    Ok(())
}
