//! Precompressed siblings (`X.gz`, `X.br`) for the backend's ServeDir to send as they are, and the
//! size report that keeps an eye on what a phone has to download.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::thread;

use anyhow::{Context as _, Result, anyhow};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::build;
use crate::util::{self, kib};

/// Formats that are compressed already: another layer only costs the server a lookup.
const ALREADY_COMPRESSED: &[&str] = &[
    "gz", "br", "zst", "zip", "png", "jpg", "jpeg", "gif", "webp", "avif", "woff", "woff2", "mp3",
    "mp4", "webm", "ogg",
];

/// The files the size report names, relative to the site; everything is in the total.
const REPORTED: &[&str] = &[
    "pkg/frontend_bg.wasm",
    "pkg/frontend.js",
    "style.css",
    "index.html",
];

/// Writes `X.gz` (best) and `X.br` (quality 11) beside every compressible file of the site.
/// Slow compression is fine: it is paid once per build and saved on every download.
pub fn precompress(site: &Path) -> Result<()> {
    let files: Vec<PathBuf> = util::files_under(site)?
        .into_iter()
        .filter(|rel| compressible(rel))
        .map(|rel| site.join(rel))
        .collect();
    // One thread per file: the wasm dominates, and brotli 11 on it is the slow part.
    thread::scope(|scope| {
        let workers: Vec<_> = files
            .iter()
            .map(|path| scope.spawn(move || write_siblings(path)))
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .map_err(|_| anyhow!("a compression thread panicked"))?
        })
    })
}

fn compressible(rel: &Path) -> bool {
    let ext = rel
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    !ext.is_some_and(|e| ALREADY_COMPRESSED.contains(&e.as_str()))
}

fn write_siblings(path: &Path) -> Result<()> {
    let raw = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let gz_path = sibling(path, "gz");
    fs::write(&gz_path, gzip(&raw)?).with_context(|| format!("writing {}", gz_path.display()))?;
    let br_path = sibling(path, "br");
    fs::write(&br_path, brotli(&raw)?).with_context(|| format!("writing {}", br_path.display()))
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn gzip(raw: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(raw).context("gzip")?;
    encoder.finish().context("gzip")
}

fn brotli(raw: &[u8]) -> Result<Vec<u8>> {
    const QUALITY: u32 = 11;
    // 2^22 bytes: larger than any file we ship, the usual window for static assets.
    const WINDOW_BITS: u32 = 22;
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, QUALITY, WINDOW_BITS);
        writer.write_all(raw).context("brotli")?;
        writer.flush().context("brotli")?;
    }
    Ok(out)
}

/// Raw, gzip and brotli sizes of one file; a file without a sibling is sent raw.
struct Sizes {
    raw: u64,
    gzip: u64,
    brotli: u64,
}

impl Sizes {
    fn add(&mut self, other: &Sizes) {
        self.raw += other.raw;
        self.gzip += other.gzip;
        self.brotli += other.brotli;
    }
}

fn sizes(path: &Path) -> Result<Sizes> {
    let len = |p: &Path| fs::metadata(p).map(|m| m.len());
    let raw = len(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sizes {
        raw,
        gzip: len(&sibling(path, "gz")).unwrap_or(raw),
        brotli: len(&sibling(path, "br")).unwrap_or(raw),
    })
}

/// Prints what a browser downloads, per important file and in total: the first load is
/// everything but the lazily loaded screens' chunks, which come on first use of their screen
/// (and, once the service worker is installed, in the background).
pub fn print_sizes(site: &Path) -> Result<()> {
    let zero = || Sizes {
        raw: 0,
        gzip: 0,
        brotli: 0,
    };
    let (mut total, mut chunks) = (zero(), zero());
    let mut chunk_count = 0;
    let mut loader = None;
    for rel in util::files_under(site)? {
        let ext = rel.extension().and_then(|e| e.to_str());
        if matches!(ext, Some("gz" | "br")) {
            continue;
        }
        let s = sizes(&site.join(&rel))?;
        if rel.ends_with(build::SPLIT_LOADER) {
            loader = Some(sizes(&site.join(&rel))?);
        }
        if rel.to_str().is_some_and(build::is_chunk) {
            chunks.add(&s);
            chunk_count += 1;
        }
        total.add(&s);
    }
    eprintln!(
        "{:<22} {:>12} {:>12} {:>12}",
        "site file", "raw", "gzip", "brotli"
    );
    let row = |name: &str, s: &Sizes| {
        eprintln!(
            "{name:<22} {:>12} {:>12} {:>12}",
            kib(s.raw),
            kib(s.gzip),
            kib(s.brotli)
        );
    };
    for rel in REPORTED {
        let path = site.join(rel);
        if path.is_file() {
            row(rel, &sizes(&path)?);
        }
    }
    if let Some(loader) = &loader {
        row("chunk loader", loader);
    }
    row(&format!("{chunk_count} lazy chunks"), &chunks);
    row("total", &total);
    let first = Sizes {
        raw: total.raw - chunks.raw,
        gzip: total.gzip - chunks.gzip,
        brotli: total.brotli - chunks.brotli,
    };
    row("first load (no chunks)", &first);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_text_not_images() {
        assert!(compressible(Path::new("pkg/frontend_bg.wasm")));
        assert!(compressible(Path::new("site.webmanifest")));
        assert!(!compressible(Path::new("icons/icon-192.PNG")));
        assert!(!compressible(Path::new("index.html.br")));
    }

    #[test]
    fn both_encodings_round_trip() -> Result<()> {
        use std::io::Read as _;
        let text = "改革看板 ".repeat(200);
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(gzip(text.as_bytes())?.as_slice())
            .read_to_string(&mut unzipped)?;
        assert_eq!(unzipped, text);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(brotli(text.as_bytes())?.as_slice(), 4096)
            .read_to_string(&mut unbrotlied)?;
        assert_eq!(unbrotlied, text);
        Ok(())
    }
}
