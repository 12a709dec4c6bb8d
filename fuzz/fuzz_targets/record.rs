//! Ceremony records (ceremony record.toml, read back from the log by `log audit`): a record
//! that parses is written back to TOML that parses to the same record.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rust_pki_ceremony::record::Record;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("record.toml");
    let Ok(record) = Record::parse(data, path) else {
        return;
    };
    let _ = record.certificates();
    let text = toml::to_string(&record).expect("a parsed record serialises");
    let again = Record::parse(text.as_bytes(), path).expect("a written record parses");
    assert_eq!(again, record);
});
