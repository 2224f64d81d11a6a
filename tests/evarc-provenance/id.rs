use std::collections::BTreeSet;

use evarc_provenance::id::{DocumentId, IdError, Prefix, ProvisionId, RecordId};

fn doc(seq: u64) -> DocumentId {
    DocumentId::new(Prefix::default(), seq).expect("valid sequence")
}

fn prov(seq: u64) -> ProvisionId {
    ProvisionId::new(Prefix::default(), seq).expect("valid sequence")
}

#[test]
fn padding_and_growth() {
    assert_eq!(doc(648).to_string(), "CA-D-00648");
    assert_eq!(doc(1).to_string(), "CA-D-00001");
    assert_eq!(doc(99_999).to_string(), "CA-D-99999");
    assert_eq!(doc(100_000).to_string(), "CA-D-100000");
    assert_eq!(prov(11_417).to_string(), "CA-P-011417");
    assert_eq!(prov(999_999).to_string(), "CA-P-999999");
    assert_eq!(prov(1_000_000).to_string(), "CA-P-1000000");
    assert_eq!(doc(u64::MAX).to_string(), format!("CA-D-{}", u64::MAX));
}

#[test]
fn prefix_rules() {
    assert_eq!(Prefix::default().as_str(), "CA");
    assert_eq!(Prefix::new("ev").expect("letters").as_str(), "EV");
    assert_eq!(
        Prefix::new("ABCDEFGH").expect("8 letters").as_str(),
        "ABCDEFGH"
    );
    for bad in ["", "C", "ABCDEFGHI", "C1", "C-A", "ÇA", " CA"] {
        assert_eq!(
            Prefix::new(bad),
            Err(IdError::InvalidPrefix {
                input: bad.to_owned()
            }),
            "{bad:?}"
        );
    }
    let id = DocumentId::new(Prefix::new("ev").expect("letters"), 7).expect("valid");
    assert_eq!(id.to_string(), "EV-D-00007");
    assert_eq!(id.prefix().as_str(), "EV");
    assert_eq!(id.seq(), 7);
}

#[test]
fn parse_is_case_insensitive_and_round_trips() {
    assert_eq!("CA-D-00648".parse::<DocumentId>(), Ok(doc(648)));
    assert_eq!("ca-d-648".parse::<DocumentId>(), Ok(doc(648)));
    assert_eq!("Ca-P-011417".parse::<ProvisionId>(), Ok(prov(11_417)));
    assert_eq!("CA-D-100000".parse::<DocumentId>(), Ok(doc(100_000)));
    assert_eq!(
        "ca-p-11417".parse::<RecordId>(),
        Ok(RecordId::Provision(prov(11_417)))
    );
    assert_eq!(
        "CA-D-00648".parse::<RecordId>(),
        Ok(RecordId::Document(doc(648)))
    );
    let ev: RecordId = "ev-d-3".parse().expect("other prefix");
    assert_eq!(ev.to_string(), "EV-D-00003");
    for text in ["CA-D-00648", "CA-P-011417", "CA-D-100000"] {
        let id: RecordId = text.parse().expect("valid");
        assert_eq!(id.to_string(), text);
    }
}

#[test]
fn malformed_ids_name_the_input_and_shape() {
    let err = "CA-X-1".parse::<RecordId>().expect_err("bad kind");
    assert_eq!(
        err.to_string(),
        "invalid ID \"CA-X-1\": expected CA-D-<digits> (document) or CA-P-<digits> (provision)"
    );
    let err = "CA-P-1".parse::<DocumentId>().expect_err("wrong kind");
    assert_eq!(
        err.to_string(),
        "invalid ID \"CA-P-1\": expected CA-D-<digits> (document)"
    );
    let err = "CA-D-1".parse::<ProvisionId>().expect_err("wrong kind");
    assert_eq!(
        err.to_string(),
        "invalid ID \"CA-D-1\": expected CA-P-<digits> (provision)"
    );
    for bad in [
        "", "CA", "CA-D", "CA-D-", "CA-D-+5", "CA-D--5", "CA-D- 5", " CA-D-5", "CA-D-5 ",
        "CA-D-5-1", "CA_D_5", "CAD5", "C-D-5", "CA1-D-5", "CA-DD-5", "CA-D-5a", "CA-D-0x5",
        "CA-D-٣", "CA-D-５", "ÇA-D-5", "CA-D-1.0", "CA-D-1e3",
    ] {
        match bad.parse::<RecordId>() {
            Err(IdError::Malformed { input, expected }) => {
                assert_eq!(input, bad);
                assert!(expected.contains("-D-<digits>"), "{expected}");
            }
            other => panic!("{bad:?} parsed as {other:?}"),
        }
    }
    assert_eq!(
        "CA-D-0".parse::<RecordId>(),
        Err(IdError::ZeroSequence {
            input: "CA-D-0".to_owned()
        })
    );
    assert_eq!(
        "CA-P-000000".parse::<ProvisionId>(),
        Err(IdError::ZeroSequence {
            input: "CA-P-000000".to_owned()
        })
    );
    let too_big = "CA-D-18446744073709551616";
    assert_eq!(
        too_big.parse::<RecordId>(),
        Err(IdError::Overflow {
            input: too_big.to_owned()
        })
    );
    assert!(DocumentId::new(Prefix::default(), 0).is_err());
}

#[test]
fn serde_as_strings() {
    let id = RecordId::Provision(prov(11_417));
    assert_eq!(
        serde_json::to_string(&id).expect("serialise"),
        "\"CA-P-011417\""
    );
    assert_eq!(
        serde_json::to_string(&doc(648)).expect("serialise"),
        "\"CA-D-00648\""
    );
    assert_eq!(
        serde_json::to_string(&Prefix::default()).expect("serialise"),
        "\"CA\""
    );
    let back: RecordId = serde_json::from_str("\"ca-p-11417\"").expect("deserialise");
    assert_eq!(back, id);
    let back: DocumentId = serde_json::from_str("\"CA-D-00648\"").expect("deserialise");
    assert_eq!(back, doc(648));
    let err = serde_json::from_str::<DocumentId>("\"CA-Q-1\"").expect_err("bad");
    assert!(err.to_string().contains("invalid ID \"CA-Q-1\""), "{err}");
    assert!(serde_json::from_str::<Prefix>("\"C\"").is_err());
}

#[test]
fn ordering_and_hashing() {
    let set: BTreeSet<DocumentId> = [doc(100_000), doc(2), doc(10)].into_iter().collect();
    let order: Vec<String> = set.iter().map(ToString::to_string).collect();
    assert_eq!(order, ["CA-D-00002", "CA-D-00010", "CA-D-100000"]);
    let ids: std::collections::HashSet<RecordId> = ["CA-D-1", "ca-d-00001", "CA-P-1"]
        .iter()
        .map(|s| s.parse().expect("valid"))
        .collect();
    assert_eq!(ids.len(), 2);
}
