#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| evarc_fuzz::harness::anchor(data));
