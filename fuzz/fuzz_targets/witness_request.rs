//! The witness's HTTP request body (tlog witness_protocol, C2SP tlog-witness add-checkpoint):
//! parse → encode → parse gives the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_pki_tlog::witness_protocol::AddCheckpointRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = AddCheckpointRequest::parse(data) else {
        return;
    };
    let again = AddCheckpointRequest::parse(&request.encode()).expect("an encoded request parses");
    assert_eq!(again, request);
});
