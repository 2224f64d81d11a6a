//! RFC 3161 requests: the DER built by hand, byte for byte.

use evarc_tlog::timestamp::{check_response, request, TimestampError};

#[test]
fn the_request_is_the_expected_der() {
    let der = request(b"abc", 0x0102);
    let expected = concat!(
        "303d",                           // TimeStampReq, 61 bytes
        "020101",                         // version 1
        "3031",                           // MessageImprint, 49 bytes
        "300d06096086480165030402010500", // sha256, NULL
        "0420ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", // SHA-256("abc")
        "02020102",                       // nonce
        "0101ff"                          // certReq TRUE
    );
    assert_eq!(hex::encode(der), expected);
    // A nonce with its high bit set gets a leading zero byte.
    assert!(hex::encode(request(b"abc", 0x80)).contains("02020080"));
}

#[test]
fn refused_and_malformed_responses_are_named() {
    // status 2 (rejection), no token.
    let refused = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
    assert_eq!(
        check_response(&refused, b"abc", 1),
        Err(TimestampError::Refused { status: 2 })
    );
    let granted_without_token = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00];
    assert_eq!(
        check_response(&granted_without_token, b"abc", 1),
        Err(TimestampError::NoToken)
    );
    assert!(matches!(
        check_response(b"\x30\x99", b"abc", 1),
        Err(TimestampError::Malformed(_))
    ));
}
