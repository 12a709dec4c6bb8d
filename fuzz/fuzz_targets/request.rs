//! Ceremony requests (ceremony request.toml, `Request::parse`, which also validates):
//! a request that parses is written back to TOML that parses to the same request.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rust_pki_ceremony::request::Request;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("request.toml");
    let Ok(request) = Request::parse(data, path) else {
        return;
    };
    let text = request.to_toml().expect("a parsed request serialises");
    let again = Request::parse(text.as_bytes(), path).expect("a written request parses");
    assert_eq!(again, request);
    let _ = Request::fingerprint(data);
    for output in &request.outputs {
        let _ = output.tbs_der();
    }
});
