//! CSRs (ca csr): a delegate's CSR (P-384 or Ed25519) and a CloudHSM cluster's CSR (RSA),
//! PEM or DER, parsed and their self-signatures checked, must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_pki_ca::csr::{parse_cluster_csr, parse_csr};
use rust_pki_ca::pem::{decode_der, label};

fuzz_target!(|data: &[u8]| {
    let Ok(der) = decode_der(data, label::CSR) else {
        return;
    };
    let _ = parse_csr(&der);
    // policy/rust-root.toml [cluster] min_rsa_bits.
    let _ = parse_cluster_csr(&der, 2048);
});
