//! The `csl-json` output validates against the official CSL data schema (fixtures/csl-data.json).

use evarc_provenance::cite::{render, Format};
use serde_json::Value;

use crate::fixture::{document_record, options, provision_record};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("fixtures/csl-data.json"))
        .expect("fixture schema is JSON");
    jsonschema::validator_for(&schema).expect("CSL schema compiles")
}

fn assert_valid(output: &str) {
    let instance: Value = serde_json::from_str(output).expect("csl-json output is JSON");
    let validator = validator();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations: {errors:#?}\n{output}"
    );
}

#[test]
fn provision_and_document_items_validate() {
    assert_valid(&render(&provision_record(), Format::CslJson, &options()));
    assert_valid(&render(&document_record(), Format::CslJson, &options()));
    let mut undated = document_record();
    undated.last_updated = None;
    assert_valid(&render(&undated, Format::CslJson, &options()));
}

#[test]
fn the_validator_rejects_keys_outside_the_schema() {
    let bad = r#"[{"id":"CA-D-00648","type":"webpage","sha256":"00"}]"#;
    let instance: Value = serde_json::from_str(bad).expect("JSON");
    assert!(!validator().is_valid(&instance));
}
