//! Generated workloads: a manifest of HTML captures shaped like the corpus (several entities,
//! documents with many versions that differ a little, so that deltas and folds both occur).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use sha2::Digest as _;

use crate::rng::Rng;

/// One generated capture.
#[derive(Clone, Debug)]
pub struct Row {
    pub captured_at: String,
    pub entity: String,
    pub document: String,
    pub source_url: String,
    pub path: String,
    pub sha256: String,
    pub len: u64,
}

/// A manifest on disk and what it lists.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub rows: Vec<Row>,
}

impl Manifest {
    /// Reads a TSV manifest with the corpus' columns (e.g. ../shared/corpus's manifest.tsv).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading manifest {}", path.display()))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(at), Some(entity), Some(doc), Some(url), Some(p)) = (
            col("captured_at"),
            col("entity"),
            col("document"),
            col("source_url"),
            col("path"),
        ) else {
            anyhow::bail!("{} lacks the manifest columns", path.display());
        };
        let (sha, bytes) = (col("sha256"), col("bytes"));
        let rows = lines
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                let get = |i: usize| f.get(i).copied().unwrap_or("").to_owned();
                Row {
                    captured_at: get(at),
                    entity: get(entity),
                    document: get(doc),
                    source_url: get(url),
                    path: get(p),
                    sha256: sha.map(get).unwrap_or_default(),
                    len: bytes.and_then(|b| get(b).parse().ok()).unwrap_or(0),
                }
            })
            .collect();
        Ok(Self {
            path: path.to_owned(),
            rows,
        })
    }

    /// The bytes of a row's file.
    pub fn bytes_of(&self, row: &Row) -> Result<Vec<u8>> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let path = dir.join(&row.path);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }
}

/// The stable clause every version of a document keeps: provisions quote it.
pub fn stable_clause(document: &str, k: usize) -> String {
    format!("Clause {k} of {document}: the provider keeps the records of clause {k} intact.")
}

/// Clauses per document that never change (quotable in every version).
pub const STABLE_CLAUSES: usize = 6;

/// Writes `documents` documents of `versions` versions each into `dir`, plus `manifest.tsv`.
/// Every fifth version repeats the previous one (a fold); document 0 of each entity is large
/// enough to span several store chunks when `big` is set.
pub fn generate(
    dir: &Path,
    documents: usize,
    versions: usize,
    big: bool,
    rng: &mut Rng,
) -> Result<Manifest> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut rows = Vec::new();
    for d in 0..documents {
        let entity = format!("Entity {}", d % 3);
        let title = format!("Terms of Service {d}");
        let url = format!("https://example.org/e{}/terms-{d}", d % 3);
        let mut clauses: Vec<String> = (0..40)
            .map(|k| format!("Mutable clause {k}: {}", hex::encode(rng.bytes(24))))
            .collect();
        let mut previous: Option<Vec<u8>> = None;
        for v in 0..versions {
            let bytes = match (&previous, v % 5 == 4) {
                (Some(prev), true) => prev.clone(),
                _ => {
                    let k = rng.index(clauses.len());
                    clauses[k] =
                        format!("Mutable clause {k} (v{v}): {}", hex::encode(rng.bytes(16)));
                    page(&title, &clauses, big && d == 0, v)
                }
            };
            let relative = format!("captures/doc {d}/v{v:03}.html");
            let path = dir.join(&relative);
            std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            rows.push(Row {
                captured_at: format!(
                    "2026-05-{:02}T{:02}:{:02}:{:02}Z",
                    1 + v / 24 % 28,
                    v % 24,
                    d % 60,
                    v % 60
                ),
                entity: entity.clone(),
                document: title.clone(),
                source_url: url.clone(),
                path: relative,
                sha256: hex::encode(sha2::Sha256::digest(&bytes)),
                len: bytes.len() as u64,
            });
            previous = Some(bytes);
        }
    }
    // Interleave documents by capture time, as a crawl would list them.
    rows.sort_by(|a, b| (&a.captured_at, &a.path).cmp(&(&b.captured_at, &b.path)));
    let mut tsv = String::from("captured_at\tentity\tdocument\tsource_url\tpath\tsha256\tbytes\n");
    for r in &rows {
        writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.captured_at, r.entity, r.document, r.source_url, r.path, r.sha256, r.len
        )
        .expect("writing to a String");
    }
    let path = dir.join("manifest.tsv");
    std::fs::write(&path, tsv)?;
    Ok(Manifest { path, rows })
}

fn page(title: &str, clauses: &[String], big: bool, version: usize) -> Vec<u8> {
    let mut html =
        format!("<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>\n");
    for k in 0..STABLE_CLAUSES {
        let _ = writeln!(html, "<p>{}</p>", stable_clause(title, k));
    }
    for c in clauses {
        let _ = writeln!(html, "<p>{c}</p>");
    }
    if big {
        // About 1.2 MiB of filler that compresses poorly: several store chunks.
        let mut rng = Rng::new(version as u64 / 3);
        let _ = writeln!(html, "<pre>{}</pre>", hex::encode(rng.bytes(600_000)));
    }
    html.push_str("</body></html>\n");
    html.into_bytes()
}
