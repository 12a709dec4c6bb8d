//! Log entries and entry bundles (tlog entry, bundle): an entry that parses encodes to the
//! same bytes (the format has one encoding); a bundle that decodes re-encodes to the same
//! bytes, and each of its entries is parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::bundle;
use rust_pki_tlog::entry::Entry;

fn entry(data: &[u8]) {
    if let Ok(entry) = Entry::parse(data) {
        let encoded = entry.encode().expect("a parsed entry encodes");
        assert_eq!(encoded, data);
        let _ = entry.kind();
        let _ = entry.names_certificate(data);
    }
}

fuzz_target!(|data: &[u8]| {
    entry(data);
    if let Ok(entries) = bundle::decode(data) {
        assert_eq!(
            bundle::encode(&entries).expect("decoded entries encode"),
            data
        );
        entries.iter().for_each(|e| entry(e));
    }
});
