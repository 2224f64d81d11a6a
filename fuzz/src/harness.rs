//! The bodies of the fuzz targets, shared with the plain regression test
//! (`tests/evarc-reliability/fuzz_inputs.rs` includes this file) so that CI replays every seed and
//! every input that once crashed without nightly Rust or cargo-fuzz.
//!
//! Each function takes arbitrary bytes and must not panic; it also checks a cheap invariant of
//! what the code under test returns.

use std::io::Cursor;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use evarc_record::anchor::{anchor as anchor_quote, relocate, QuoteSelector};
use evarc_record::cite::{
    self, ArchiveCitation, CaptureCitation, CaptureMethod, CitationRecord, EvidenceCheck, Format,
    Markup, ProvisionCitation, RenderOptions,
};
use evarc_record::id::{DocumentId, Prefix, ProvisionId, RecordId};

/// ID parsing: whatever parses prints back to itself.
pub fn id(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = text.parse::<RecordId>() {
        let printed = match &id {
            RecordId::Document(d) => d.to_string(),
            RecordId::Provision(p) => p.to_string(),
        };
        let again: RecordId = printed.parse().expect("a printed ID parses");
        assert_eq!(again, id, "ID {printed:?} does not round-trip");
    }
    let _ = text.parse::<DocumentId>();
    let _ = text.parse::<ProvisionId>();
    let _ = Prefix::new(&text);
}

const MEDIA_TYPES: [Option<&str>; 6] = [
    None,
    Some("text/html"),
    Some("text/html; charset=windows-1252"),
    Some("text/plain; charset=utf-16"),
    Some("application/xhtml+xml"),
    Some("application/octet-stream"),
];

/// HTML and plain-text extraction, and media-type sniffing.
pub fn text(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let media_type = MEDIA_TYPES[usize::from(selector) % MEDIA_TYPES.len()];
    let text = evarc_record::text::extract_text(body, media_type);
    // Extraction is deterministic (quotes anchored today must anchor tomorrow).
    assert_eq!(text, evarc_record::text::extract_text(body, media_type));
    let _ = evarc_record::text::sniff_media_type(body, Some("x.html"));
}

/// Quote anchoring and relocation: `text ‖ 0xff ‖ quote ‖ 0xff ‖ new text`.
pub fn anchor(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let text = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let quote = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let new_text = String::from_utf8_lossy(parts.next().unwrap_or_default());
    if let Ok(sel) = anchor_quote(&text, &quote) {
        let chars = text.chars().count();
        assert!(
            sel.start <= sel.end && sel.end <= chars,
            "selector {sel:?} outside the text"
        );
        let exact: String = text
            .chars()
            .skip(sel.start)
            .take(sel.end - sel.start)
            .collect();
        assert_eq!(exact, sel.exact, "selector positions do not select `exact`");
        let _ = relocate(&text, &sel);
        let _ = relocate(&new_text, &sel);
    }
    let forged = QuoteSelector {
        exact: quote.to_string(),
        prefix: new_text.chars().take(32).collect(),
        suffix: text.chars().take(32).collect(),
        start: data.len(),
        end: data.len() / 2,
    };
    let _ = relocate(&text, &forged);
}

/// WARC reading (plain or gzip), every record's payload read whole.
pub fn warc(data: &[u8]) {
    let opts = evarc_package::ReaderOptions {
        max_block_bytes: 1 << 20,
        in_memory_bytes: 1 << 20,
        temp_dir: None,
    };
    let Ok(reader) = evarc_package::WarcReader::new(Cursor::new(data), opts) else {
        return;
    };
    for record in reader.take(10_000) {
        if let Ok(evarc_package::WarcRecord::Capture(mut capture)) = record {
            let bytes = capture
                .payload
                .to_vec()
                .expect("an in-memory payload reads");
            assert_eq!(bytes.len() as u64, capture.payload.len());
        }
    }
}

/// Every citation renderer, with every markup and evidence state, on fields cut from the input
/// (any Unicode, control characters, newlines; the quote may be repeated to megabytes).
pub fn cite_all(data: &[u8]) {
    render_all(data, true);
}

/// [`cite_all`] with one markup and evidence state per format (for very large inputs).
pub fn cite_once(data: &[u8]) {
    render_all(data, false);
}

fn render_all(data: &[u8], every_option: bool) {
    let fields: Vec<String> = data
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let field = |i: usize| fields.get(i).cloned().unwrap_or_default();
    let number = |i: usize| {
        data.get(i..i + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let seq = number(0) % 10_000_000 + 1;
    let prefix = Prefix::default();
    let document_id = DocumentId::new(prefix.clone(), seq).expect("a valid sequence");
    let at = instant(number(1) as i64);
    let mut quote = field(3);
    let repeat = data.first().map_or(1, |b| usize::from(b % 4) * 4096 + 1);
    if data.len() > 16 && quote.len() * repeat < 4 << 20 {
        quote = quote.repeat(repeat);
    }
    let provision = (number(2) % 2 == 0).then(|| ProvisionCitation {
        title: field(4),
        quote: quote.clone(),
        severity: Some(field(5)).filter(|s| !s.is_empty()),
        categories: fields.iter().skip(9).take(3).cloned().collect(),
        selector: QuoteSelector {
            exact: quote.clone(),
            prefix: field(6),
            suffix: field(7),
            start: (number(3) % 1_000_000) as usize,
            end: (number(4) % 2_000_000) as usize,
        },
    });
    let record_id = match &provision {
        Some(_) => RecordId::Provision(ProvisionId::new(prefix, seq).expect("a valid sequence")),
        None => RecordId::Document(document_id.clone()),
    };
    let record = CitationRecord {
        record_id,
        document_id,
        entity: field(0),
        document_title: field(1),
        source_url: field(2),
        last_updated: NaiveDate::from_num_days_from_ce_opt((number(5) % 3_000_000) as i32),
        provision,
        capture: CaptureCitation {
            captured_at: at,
            sha256: evarc_record::Sha256::of(data),
            blake3: evarc_record::Blake3::of(field(8).as_bytes()),
            byte_len: number(6),
            media_type: field(7),
            method: match number(7) % 3 {
                0 => CaptureMethod::FileImport,
                1 => CaptureMethod::WarcImport,
                _ => CaptureMethod::HttpFetch {
                    status: (number(8) % 1000) as u16,
                    final_url: field(6),
                },
            },
            first_tracked: at,
            last_verified: instant(number(9) as i64),
            wayback: Some(field(5)).filter(|s| !s.is_empty()),
            withdrawn: None,
        },
        archive: ArchiveCitation {
            name: field(9),
            base_url: Some(field(10)).filter(|s| !s.is_empty()),
            tool: "evarc fuzz".into(),
        },
    };
    let evidence = [
        EvidenceCheck::Verified,
        EvidenceCheck::Missing,
        EvidenceCheck::Mismatch {
            actual_sha256: evarc_record::Sha256::of(field(11).as_bytes()),
        },
        EvidenceCheck::Damaged { reason: field(12) },
    ];
    let (markups, checks) = if every_option {
        (
            &[Markup::Plain, Markup::Markdown, Markup::Html][..],
            &evidence[..],
        )
    } else {
        (&[Markup::Html][..], &evidence[..1])
    };
    for format in Format::ALL {
        for &markup in markups {
            for check in checks {
                let opts = RenderOptions {
                    accessed: at.date_naive(),
                    markup,
                    evidence: check.clone(),
                };
                let out = cite::render(&record, format, &opts);
                if matches!(format, Format::CslJson | Format::Json) {
                    serde_json::from_str::<serde_json::Value>(&out)
                        .unwrap_or_else(|e| panic!("{format} output is not JSON ({e}): {out}"));
                }
            }
        }
    }
}

/// Any i64 as an instant chrono can represent (clamped to years -9999..=9999).
fn instant(seconds: i64) -> DateTime<Utc> {
    let span = 253_402_300_799i64 + 377_705_116_800;
    let clamped = seconds.rem_euclid(span) - 377_705_116_800;
    Utc.timestamp_opt(clamped, (seconds as u64 % 1_000_000_000) as u32)
        .single()
        .unwrap_or_default()
}
