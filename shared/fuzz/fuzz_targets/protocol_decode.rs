//! Any bytes as a frame from a device or from the relay, and as a deflated bootstrap page:
//! decoding answers a message or an error, never panics, and what decodes re-encodes to a
//! frame that decodes to the same message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::sync::protocol::{decode, encode, inflate_page, ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode::<ClientMessage>(data) {
        let again = decode::<ClientMessage>(&encode(&message)).expect("re-encoded frame decodes");
        assert_eq!(again, message);
    }
    if let Ok(message) = decode::<ServerMessage>(data) {
        let again = decode::<ServerMessage>(&encode(&message)).expect("re-encoded frame decodes");
        assert_eq!(again, message);
    }
    let _ = inflate_page(data);
});
