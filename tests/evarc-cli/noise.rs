//! Issue 13, noise: each cause of a change record without a change of the terms, seen on the
//! corpus, as a small page pair that differs only by that noise (no change record) followed by
//! a real change next to it (one change record, showing only the real change).

use crate::util::{path_str, Env};

const ENTITY: &str = "Example";

/// Archives `html` as a capture of `document` (at `url`) taken at `at`.
fn capture(env: &Env, document: &str, url: &str, at: &str, html: &str) {
    let file = env.write("page.html", html.as_bytes());
    env.evarc(&[
        "archive",
        path_str(&file),
        "--entity",
        ENTITY,
        "--document",
        document,
        "--url",
        url,
        "--captured-at",
        at,
    ])
    .ok();
}

const DAYS: [&str; 3] = [
    "2026-05-01T00:00:00Z",
    "2026-05-02T00:00:00Z",
    "2026-05-03T00:00:00Z",
];

/// A help-centre article stamped with the time since its last update ("Updated: 20 days ago",
/// as ChatGPT's help centre prints it): the stamp moves every day, the article does not.
#[test]
fn relative_update_time_gives_no_change_record() {
    let env = Env::new();
    let page = |updated: &str, clause: &str| {
        format!(
            "<html><body><article><h1>Using credits</h1><div class=\"meta\">Updated: {updated}</div>\
             <p>{clause}</p></article></body></html>"
        )
    };
    let url = "https://help.example.org/credits";
    capture(
        &env,
        "Credits",
        url,
        DAYS[0],
        &page("20 days ago", "Credits expire after 12 months."),
    );
    capture(
        &env,
        "Credits",
        url,
        DAYS[1],
        &page("21 days ago", "Credits expire after 12 months."),
    );
    capture(
        &env,
        "Credits",
        url,
        DAYS[2],
        &page("yesterday", "Credits expire after 6 months."),
    );
    assert_eq!(
        env.evarc(&["changes"]).ok().stdout_text(),
        "CA-C-000001  2026-05-03 00:00:00 UTC  CA-D-00001 Example — Credits  +1 −1 words; 0 added, 0 removed, 1 changed passages\n\
         1 change records in 1 documents\n"
    );
    let record = env.evarc(&["changes", "CA-C-000001"]).ok().stdout_text();
    assert!(
        record.ends_with(
            "  +1 −1 words; 0 added, 0 removed, 1 changed passages\n    changed at line 5:\n      ~ Credits expire after [-12-]{+6+} months.\n"
        ),
        "{record}"
    );
}

/// An effective date printed "February 24, 2025" on one fetch and "24 February 2025" on the
/// next (Anthropic's legal pages): the same date, no change; a new date is a change.
#[test]
fn date_format_flip_gives_no_change_record_but_a_changed_date_does() {
    let env = Env::new();
    let page = |date: &str| {
        format!(
            "<html><body><main><h1>Data Processing Addendum</h1><span>Effective {date}</span>\
             <p>We process data on your instructions.</p></main></body></html>"
        )
    };
    let url = "https://www.example.org/legal/dpa";
    capture(&env, "DPA", url, DAYS[0], &page("February 24, 2025"));
    capture(&env, "DPA", url, DAYS[1], &page("24 February 2025"));
    capture(&env, "DPA", url, DAYS[2], &page("1 May 2026"));
    assert_eq!(
        env.evarc(&["changes"]).ok().stdout_text(),
        "CA-C-000001  2026-05-03 00:00:00 UTC  CA-D-00001 Example — DPA  +3 −3 words; 0 added, 0 removed, 1 changed passages\n\
         1 change records in 1 documents\n"
    );
    let record = env.evarc(&["changes", "CA-C-000001"]).ok().stdout_text();
    assert!(
        record.ends_with(
            "    changed at line 3:\n      ~ Effective [-February-]{+May+} [-24-]{+1+}, [-2025-]{+2026+}\n"
        ),
        "{record}"
    );
}

/// A declared `combine` part whose page moved (the corpus captured ChatGPT's "creating images
/// and videos" policy at its old address; the declaration fetches the help article it became):
/// unbound, the whole page was the text, and the rotating "Related articles" outside the
/// article made a change record per fetch. Bound by the moved-page rule, `select: article`
/// leaves them out. A page of the service no declaration names is reported.
#[test]
fn rotating_links_outside_a_moved_combine_part_give_no_change_record() {
    let env = Env::new();
    let page = |related: &str, clause: &str| {
        format!(
            "<html><body><nav>Help centre</nav><article><h1>Sora</h1><p>{clause}</p></article>\
             <section><h2>Related articles</h2><ul><li><a href=\"/a\">{related}</a></li></ul></section>\
             </body></html>"
        )
    };
    let kept = "https://www.example.org/policies/kept/";
    let old_url = "https://www.example.org/policies/creating-images/";
    for (i, (related, clause)) in [
        ("What is Go?", "Sora was discontinued on April 26, 2026."),
        ("Rate card", "Sora was discontinued on April 26, 2026."),
        (
            "Release notes",
            "Sora was discontinued on April 26, 2026 in every country.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        capture(
            &env,
            "Acceptable Use Policy #policies-creating-images",
            old_url,
            DAYS[i],
            &page(related, clause),
        );
    }
    capture(
        &env,
        "Acceptable Use Policy #policies-kept",
        kept,
        DAYS[0],
        "<html><body><main><p>Kept.</p></main></body></html>",
    );
    // A page of the service that no declaration names: reported, its text stays the whole page.
    capture(
        &env,
        "Cookie notice",
        "https://www.example.org/cookies",
        DAYS[0],
        "<html><body><p>Cookies.</p></body></html>",
    );
    env.write(
        "decl/Example.json",
        br#"{"name": "Example", "terms": {"Acceptable Use Policy": {"combine": [
              {"fetch": "https://www.example.org/policies/kept/", "select": "main"},
              {"fetch": "https://help.example.org/articles/1-sora", "select": "article"}
            ]}}}"#,
    );
    let bound = env
        .evarc(&["import", "declarations", path_str(&env.path().join("decl"))])
        .ok();
    assert_eq!(
        bound.stdout_text(),
        "CA-D-00002  Example — Acceptable Use Policy #policies-kept: bound\n\
         CA-D-00001  Example — Acceptable Use Policy #policies-creating-images: bound (page moved: declared at https://help.example.org/articles/1-sora)\n\
         CA-D-00003  Example — Cookie notice: no declared page (its text is the whole page)\n\
         1 declaration files, 2 document bindings, 0 declared pages without a document; run `evarc reindex` to recompute versions\n"
    );
    let reindex = env.evarc(&["reindex", "CA-D-00001"]).ok();
    assert_eq!(
        reindex.stdout_text(),
        "CA-D-00001  3 captures, 2 versions, 1 new change records, 0 kept, superseded CA-C-000001 CA-C-000002\n"
    );
    assert_eq!(
        env.evarc(&["changes"]).ok().stdout_text(),
        "CA-C-000003  2026-05-03 00:00:00 UTC  CA-D-00001 Example — Acceptable Use Policy #policies-creating-images  +3 −0 words; 0 added, 0 removed, 1 changed passages\n\
         1 change records in 3 documents (2 superseded not shown: --all)\n"
    );
}

/// OTA's link filters (`removeTrackingIDs`, `removeQueryParams`, `removeRedirectFromLinks`)
/// are recognised, not reported unsupported: evarc's text has no link targets, so a rotating
/// tracking parameter in a link makes no change record; an unknown filter is still reported.
#[test]
fn link_filters_are_recognised_and_rotating_link_targets_give_no_change_record() {
    let env = Env::new();
    let page = |h: &str, clause: &str| {
        format!(
            "<html><body><main><p>{clause} See <a href=\"https://l.example.org/l.php?u=x&amp;h={h}\">our data policy</a>.</p>\
             <p><a href=\"/redirect/{h}/privacy\">Privacy</a></p></main></body></html>"
        )
    };
    let url = "https://www.example.org/privacy";
    capture(
        &env,
        "Privacy Policy",
        url,
        DAYS[0],
        &page("AT1x", "We share data."),
    );
    capture(
        &env,
        "Privacy Policy",
        url,
        DAYS[1],
        &page("AT2y", "We share data."),
    );
    capture(
        &env,
        "Privacy Policy",
        url,
        DAYS[2],
        &page("AT3z", "We never share data."),
    );
    env.write(
        "decl/Example.json",
        br#"{"name": "Example", "terms": {"Privacy Policy": {
              "fetch": "https://www.example.org/privacy", "select": "main",
              "filter": ["removeTrackingIDs", "removeRedirectFromLinks",
                         {"removeQueryParams": ["utm_source"]}, "numberListCorrectly"]}}}"#,
    );
    let bound = env
        .evarc(&["import", "declarations", path_str(&env.path().join("decl"))])
        .ok();
    assert_eq!(
        bound.stdout_text(),
        "CA-D-00001  Example — Privacy Policy: bound\n    unsupported: filter (numberListCorrectly): JavaScript filters are not run\n\
         1 declaration files, 1 document bindings, 0 declared pages without a document; run `evarc reindex` to recompute versions\n"
    );
    let reindex = env.evarc(&["reindex"]).ok();
    assert_eq!(
        reindex.stdout_text(),
        "CA-D-00001  3 captures, 2 versions, 0 new change records, 1 kept\n"
    );
    let record = env.evarc(&["changes", "CA-C-000001"]).ok().stdout_text();
    assert!(
        record.ends_with(
            "    changed at line 1:\n      ~ We {+never +}share data. See our data policy.\n"
        ),
        "{record}"
    );
}
