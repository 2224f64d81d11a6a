//! Date and time formats of the citations (never chrono's locale-dependent `%b`).

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};

/// English month names, January first (citations and the date normalisation of version texts).
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Bluebook table T12 month abbreviations.
const T12_MONTHS: [&str; 12] = [
    "Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.",
];

fn month_index(date: NaiveDate) -> usize {
    usize::try_from(date.month0()).expect("month0 is below 12")
}

/// `May 13, 2026`: full month name, no leading zero on the day.
pub fn human_date(date: NaiveDate) -> String {
    format!(
        "{} {}, {}",
        MONTHS[month_index(date)],
        date.day(),
        date.year()
    )
}

/// `Sept. 5, 2026`: Bluebook T12 month abbreviation.
pub fn bluebook_date(date: NaiveDate) -> String {
    format!(
        "{} {}, {}",
        T12_MONTHS[month_index(date)],
        date.day(),
        date.year()
    )
}

/// `2026-05-12 09:51:22 UTC` (whole seconds).
pub fn text_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `2026-05-12T09:51:22Z`: RFC 3339 with `Z`, sub-second digits only when nonzero.
pub fn json_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `20260512095122`: the Wayback Machine's timestamp.
pub fn wayback_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}
