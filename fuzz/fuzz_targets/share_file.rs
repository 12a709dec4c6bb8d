//! Encrypted PIN share files (ceremony shares, `decrypt_share`). An input that starts like an
//! age file is decrypted as is (age's parsing); any other input is taken as a plaintext
//! payload, encrypted to the fixture identity and decrypted (our payload parsing). A share
//! that decrypts, re-encrypted and decrypted again, is the same share.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use rust_pki_ceremony::shares::{ShareIdentity, decrypt_share, reencrypt_share};

/// A throwaway age identity made for fuzzing only (fixtures/share-identity.txt).
static IDENTITY_TEXT: &str = include_str!("../fixtures/share-identity.txt");
static IDENTITY: LazyLock<ShareIdentity> = LazyLock::new(|| {
    ShareIdentity::from_bytes("share-identity.txt", IDENTITY_TEXT.as_bytes())
        .expect("fixture identity")
});
static X25519: LazyLock<age::x25519::Identity> = LazyLock::new(|| {
    let line = IDENTITY_TEXT
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("identity line");
    line.parse().expect("fixture identity")
});

fuzz_target!(|data: &[u8]| {
    let recipient = X25519.to_public();
    let share = if data.starts_with(b"age-encryption.org/") {
        decrypt_share(data, &IDENTITY)
    } else {
        let file = age::encrypt(&recipient, data).expect("encryption to a fixed key");
        decrypt_share(&file, &IDENTITY)
    };
    let Ok(share) = share else {
        return;
    };
    let file = reencrypt_share(&share, &recipient).expect("a decrypted share re-encrypts");
    let again = decrypt_share(&file, &IDENTITY).expect("a re-encrypted share decrypts");
    assert_eq!(
        (
            again.token(),
            again.secret_name(),
            again.set_id(),
            again.index()
        ),
        (
            share.token(),
            share.secret_name(),
            share.set_id(),
            share.index()
        )
    );
});
