//! Safe file names from untrusted text (record IDs, URIs, titles).

/// Longest component written, in bytes (well under every file system's 255).
const MAX_COMPONENT_BYTES: usize = 96;

/// One path component that is safe on every platform: ASCII letters, digits, `.`, `-` and `_`
/// only (everything else becomes `_`, runs collapsed), no leading dot (so never `.` or `..`),
/// not empty, not a Windows device name, at most 96 bytes. It cannot contain a separator
/// (`/` or `\`), a NUL or a control character, so joining it to a directory stays inside it.
pub fn safe_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_COMPONENT_BYTES));
    for c in text.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        let c = if keep { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
        if out.len() >= MAX_COMPONENT_BYTES {
            break;
        }
    }
    let trimmed = out
        .trim_start_matches(['.', '_'])
        .trim_end_matches(['.', ' ']);
    let mut name = if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    };
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        name.insert(0, '_');
    }
    name
}

/// A file extension for a media type (`text/html; charset=utf-8` → `html`); `bin` if unknown.
pub fn media_type_extension(media_type: &str) -> &'static str {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => "html",
        "text/plain" => "txt",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/xml" | "application/xml" => "xml",
        "text/markdown" => "md",
        "text/csv" => "csv",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/rtf" => "rtf",
        _ => "bin",
    }
}
