//! `message.txt` as a user writes it: refused with the line that is wrong,
//! or parsed into an envelope that renders and parses back to itself.
#![no_main]

use gateway::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(envelope) = Envelope::parse(text) else { return };
    let rendered = envelope.render();
    let again = Envelope::parse(&rendered).expect("what the core renders, it parses");
    assert_eq!(again.render(), rendered, "a rendered envelope is stable");
});
