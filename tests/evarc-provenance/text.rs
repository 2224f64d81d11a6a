use evarc_provenance::text::{extract_text, sniff_media_type};

const HTML: Option<&str> = Some("text/html; charset=utf-8");

#[test]
fn drops_script_style_head_and_template() {
    let html = "<!doctype html><html><head><title>Page title</title><style>p{color:red}</style>\
        <script>var x = '<p>not text</p>';</script></head><body><noscript>enable js</noscript>\
        <template><p>inert</p></template><p>Hello <b>world</b></p><script>alert(1)</script></body></html>";
    assert_eq!(extract_text(html.as_bytes(), HTML), "Hello world");
}

#[test]
fn blocks_make_lines_and_whitespace_collapses() {
    let html = "<div>  one\n   two  </div><div>three</div><p>para</p><p>next<br>line</p>\
        <ul><li>a</li><li>b</li></ul><table><tr><td>c1</td><td>c2</td></tr><tr><td>c3</td></tr></table>\
        <h2>Head</h2>x<br><br><br>y";
    assert_eq!(
        extract_text(html.as_bytes(), HTML),
        "one two\nthree\n\npara\n\nnext\nline\n\na\nb\n\nc1 c2\nc3\n\nHead\n\nx\n\ny"
    );
}

#[test]
fn pre_keeps_lines() {
    let html = "<p>before</p><pre>line 1\nline   2\n\n\nline 3</pre>after";
    assert_eq!(
        extract_text(html.as_bytes(), HTML),
        "before\n\nline 1\nline 2\n\nline 3\n\nafter"
    );
}

#[test]
fn entities_are_decoded() {
    let html = "<p>AT&amp;T &lt;b&gt; &ldquo;quoted&rdquo; caf&eacute; &#x1F600; &nbsp;x&copy</p>";
    assert_eq!(
        extract_text(html.as_bytes(), HTML),
        "AT&T <b> \u{201C}quoted\u{201D} café 😀 x©"
    );
}

#[test]
fn plain_text_is_kept_with_lf() {
    let text = "Line one\r\nLine  two\rLine three\n\n\nend";
    assert_eq!(
        extract_text(text.as_bytes(), Some("text/plain")),
        "Line one\nLine  two\nLine three\n\n\nend"
    );
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let bytes = b"<p>caf\xe9 \xff\xfe ok</p>";
    assert_eq!(extract_text(bytes, HTML), "caf\u{FFFD} \u{FFFD}\u{FFFD} ok");
    assert_eq!(extract_text(b"a\xffb", Some("text/plain")), "a\u{FFFD}b");
}

#[test]
fn charset_from_media_type_and_meta() {
    let latin1 = b"<p>caf\xe9</p>";
    assert_eq!(
        extract_text(latin1, Some("text/html; charset=ISO-8859-1")),
        "café"
    );
    let meta = b"<html><head><meta charset=\"windows-1252\"></head><body><p>\x93quoted\x94</p></body></html>";
    assert_eq!(
        extract_text(meta, Some("text/html")),
        "\u{201C}quoted\u{201D}"
    );
    assert_eq!(extract_text(meta, None), "\u{201C}quoted\u{201D}");
    let bom = b"\xEF\xBB\xBF<p>bom</p>";
    assert_eq!(
        extract_text(bom, Some("text/html; charset=windows-1252")),
        "bom"
    );
}

#[test]
fn sniffing() {
    assert_eq!(
        sniff_media_type(b"<!DOCTYPE html><p>x</p>", None),
        "text/html; charset=utf-8"
    );
    assert_eq!(
        sniff_media_type(b"  <HTML>", None),
        "text/html; charset=utf-8"
    );
    assert_eq!(
        sniff_media_type(b"<meta charset=latin1><p>\xe9", None),
        "text/html; charset=windows-1252"
    );
    assert_eq!(sniff_media_type(b"%PDF-1.7\n...", None), "application/pdf");
    assert_eq!(
        sniff_media_type(b"hello", Some("terms.txt")),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        sniff_media_type(b"hello", Some("terms.HTML")),
        "text/html; charset=utf-8"
    );
    assert_eq!(
        sniff_media_type(b"\x00\x01\x02binary", None),
        "application/octet-stream"
    );
    assert_eq!(sniff_media_type(b"caf\xe9", None), "text/plain");
    assert_eq!(sniff_media_type(b"", None), "text/plain; charset=utf-8");
}

#[test]
fn unreadable_inputs_give_empty_text() {
    assert_eq!(
        extract_text(b"%PDF-1.7 binary", Some("application/pdf")),
        ""
    );
    assert_eq!(extract_text(b"\x00\x01\x02", None), "");
    assert_eq!(extract_text(b"whatever", Some("image/png")), "");
    assert_eq!(extract_text(b"", None), "");
}

#[test]
fn hostile_html_does_not_panic() {
    let mut deep = String::new();
    for _ in 0..100_000 {
        deep.push_str("<div><span>");
    }
    deep.push_str("deep");
    assert_eq!(extract_text(deep.as_bytes(), HTML), "deep");
    let inputs: Vec<Vec<u8>> = vec![
        b"<script>never closed".to_vec(),
        b"<style>".to_vec(),
        b"<template><template></template>".to_vec(),
        b"</p></div></template></script>text".to_vec(),
        b"<!-- unterminated comment".to_vec(),
        b"<plaintext><p>kept</p>".to_vec(),
        b"<a href='x".to_vec(),
        b"&#0;&#xD800;&#99999999999;&unknown;&".to_vec(),
        b"<\x00\xff\xfe>\x00".to_vec(),
        (0..=255u8).cycle().take(100_000).collect(),
    ];
    for input in inputs {
        let _ = extract_text(&input, HTML);
        let _ = extract_text(&input, None);
        let _ = extract_text(&input, Some("text/plain"));
        let _ = sniff_media_type(&input, None);
    }
    assert_eq!(extract_text(b"<plaintext><p>kept</p>", HTML), "<p>kept</p>");
    assert_eq!(
        extract_text(b"</p></div></template></script>text", HTML),
        "text"
    );
}

#[test]
fn large_input_is_linear() {
    let para = "<p>Lorem ipsum dolor sit amet, consectetur <b>adipiscing</b> elit.</p>\n";
    let html = para.repeat(40_000); // about 3 MB
    let text = extract_text(html.as_bytes(), HTML);
    assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 40_000);
}
