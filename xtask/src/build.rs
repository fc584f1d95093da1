//! `cargo xtask build-site`: the frontend compiled to wasm, split into the main module and the
//! lazily loaded screens' chunks, its JS glue, the static files and their precompressed
//! siblings, all in `target/site/`, ready for the backend to serve.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use wasm_bindgen_cli_support::Bindgen;

use crate::util::{self, Workspace, say};
use crate::{compress, toolchain};

/// The cargo profile for the wasm bundle (opt-level "z", LTO; see the workspace Cargo.toml).
const PROFILE: &str = "wasm-release";

/// Static files whose text may name the build id (cache busting); the rest are copied as bytes.
const TEMPLATED_EXTENSIONS: &[&str] = &["html", "js", "css", "webmanifest", "json"];
const BUILD_ID_PLACEHOLDER: &str = "__BUILD_ID__";
/// Where boot.js, which sends the first pull before the app has started, writes the sync
/// protocol's version.
const PROTOCOL_PLACEHOLDER: &str = "__PROTOCOL_VERSION__";
/// Where sw.js lists the split's files (loader and chunks) for the service worker to precache.
const SPLIT_FILES_PLACEHOLDER: &str = "/* __WASM_SPLIT_FILES__ */";
/// Where index.html names the chunks' loader, so the browser fetches it beside the glue (which
/// imports it) rather than after it.
const SPLIT_LOADER_PLACEHOLDER: &str = "__WASM_SPLIT_LOADER__";
/// The splitter's loader for the chunks, beside the JS glue in `pkg/`. The main module imports
/// it by this path, so wasm-bindgen's glue imports it relative to itself.
pub const SPLIT_LOADER: &str = "__wasm_split.js";

/// Builds the site and returns its directory.
pub fn build_site(ws: &Workspace) -> Result<PathBuf> {
    toolchain::ensure_wasm_target()?;
    let start = Instant::now();
    util::run(ws.cargo().args([
        "build",
        "-p",
        "frontend",
        "--target",
        toolchain::WASM_TARGET,
        "--profile",
        PROFILE,
    ]))?;
    check_bindgen_version(&ws.root.join("Cargo.lock"))?;

    let wasm = ws
        .target_dir
        .join(toolchain::WASM_TARGET)
        .join(PROFILE)
        .join("frontend.wasm");
    let static_dir = ws.root.join("frontend").join("static");
    let site = ws.site_dir();
    let stamp_file = ws.target_dir.join("site.stamp");

    // cargo already skips an unchanged compile; this skips the glue and brotli (a few seconds)
    // when neither the wasm nor the static files nor xtask itself changed.
    let stamp = inputs_stamp(&wasm, &static_dir)?;
    let up_to_date = fs::read_to_string(&stamp_file).is_ok_and(|old| old == stamp)
        && site.join("index.html").is_file();
    if up_to_date {
        say(format!("{} is up to date", site.display()));
    } else {
        let build_id = assemble(&wasm, &static_dir, &site)?;
        fs::write(&stamp_file, &stamp)
            .with_context(|| format!("writing {}", stamp_file.display()))?;
        say(format!(
            "built {} (build id {build_id}) in {}",
            site.display(),
            util::seconds(start.elapsed())
        ));
    }
    compress::print_sizes(&site)?;
    Ok(site)
}

/// Writes the whole site into a fresh sibling directory and swaps it in, so no file of an old
/// build (say, a `.br` of a deleted file) survives, and returns the build id.
fn assemble(wasm: &Path, static_dir: &Path, site: &Path) -> Result<String> {
    // Per-process name: two builds at once (a test run beside a bench) must not share it.
    let fresh = site.with_extension(format!("new-{}", std::process::id()));
    remove_dir_if_present(&fresh)?;
    let pkg = fresh.join("pkg");

    let start = Instant::now();
    let main_wasm = split(wasm, &pkg)?;
    let split_files = split_files(&pkg)?;
    if !keep_names() {
        for url in split_files.iter().filter(|url| is_chunk(url)) {
            let path = fresh.join(url.trim_start_matches('/'));
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let stripped = without_name_section(&bytes)
                .with_context(|| format!("reading the sections of {}", path.display()))?;
            fs::write(&path, stripped).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    say(format!(
        "wasm split into the main module and {} lazily loaded chunks in {}",
        split_files.len() - 1,
        util::seconds(start.elapsed())
    ));

    let mut bindgen = Bindgen::new();
    bindgen
        .input_path(&main_wasm)
        .out_name("frontend")
        .web(true)?
        .typescript(false)
        // Without the default path, `init()` has no URL to fetch the wasm from.
        .omit_default_module_path(false)
        // The name section is for debuggers and profilers; it makes the download ~60% bigger,
        // so it stays only when asked for (`REFORMBOARD_WASM_NAMES=1`, to profile the app).
        .remove_name_section(!keep_names())
        // The chunks are instantiated with the main module's function table; without this
        // wasm-bindgen unexports it (with `__heap_base` and `__data_end`, which stay too).
        .keep_lld_exports(true);
    let start = Instant::now();
    bindgen
        .generate(&pkg)
        .with_context(|| format!("generating the JS glue for {}", main_wasm.display()))?;
    say(format!(
        "JS glue generated in {}",
        util::seconds(start.elapsed())
    ));

    let build_id = build_id(&pkg, static_dir)?;
    // The loader imports the glue by the very URL boot.js does (`?v=`), or the browser would
    // run a second, uninitialised copy of it.
    let loader = fresh.join(split_files[0].trim_start_matches('/'));
    let text =
        fs::read_to_string(&loader).with_context(|| format!("reading {}", loader.display()))?;
    fs::write(&loader, text.replace(BUILD_ID_PLACEHOLDER, &build_id))
        .with_context(|| format!("writing {}", loader.display()))?;
    copy_static(static_dir, &fresh, &build_id, &split_files)?;
    let id_file = fresh.join(shared::site::BUILD_ID_FILE);
    fs::write(&id_file, &build_id).with_context(|| format!("writing {}", id_file.display()))?;
    let start = Instant::now();
    compress::precompress(&fresh)?;
    say(format!(
        "gzip and brotli siblings written in {}",
        util::seconds(start.elapsed())
    ));

    remove_dir_if_present(site)?;
    fs::rename(&fresh, site)
        .with_context(|| format!("moving {} to {}", fresh.display(), site.display()))?;
    Ok(build_id)
}

/// Splits the compiled wasm at the frontend's `#[wasm_split]` functions (`frontend/src/chunk.rs`):
/// writes the chunks and their loader into `pkg/split-<hash of the wasm>/` and returns the main
/// module, which wasm-bindgen then turns into `frontend_bg.wasm` and its glue as before. The
/// split comes first because it needs the linker's relocations (`--emit-relocs`,
/// .cargo/config.toml), which wasm-bindgen drops; the main module keeps the wasm-bindgen imports
/// and exports, so the glue is generated for it alone (cargo-leptos's order for `--split`).
///
/// The directory is per build: a tab still running the previous build after a deploy asks for
/// its own chunks, which are gone (a clean failure), never for the new build's chunks, which
/// would not fit its main module.
fn split(wasm: &Path, pkg: &Path) -> Result<PathBuf> {
    let input = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let mut hash = Fnv::new();
    hash.write(&input);
    let dir = format!("split-{:016x}", hash.finish());
    let main_wasm = wasm.with_file_name("frontend_split_main.wasm");
    // The main module imports the loader by this path, relative to the glue in `pkg/`; the
    // splitter writes the loader there, and the chunks beside it (moved below): the loader
    // fetches them relative to itself.
    let link_name = format!("./{dir}/{SPLIT_LOADER}");
    let main_module = format!("../frontend.js?v={BUILD_ID_PLACEHOLDER}");
    fs::create_dir_all(pkg.join(&dir)).with_context(|| format!("creating {dir}"))?;
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg;
    options.main_out_path = &main_wasm;
    options.link_name = &link_name;
    options.main_module = &main_module;
    options.target.web();
    let out = wasm_split_cli_support::transform(options)
        .map_err(|err| anyhow::anyhow!("{err:?}"))
        .with_context(|| format!("splitting {}", wasm.display()))?;
    for chunk in out.split_modules {
        let name = chunk.file_name().context("a chunk without a file name")?;
        let to = pkg.join(&dir).join(name);
        fs::rename(&chunk, &to)
            .with_context(|| format!("moving {} to {}", chunk.display(), to.display()))?;
    }
    Ok(main_wasm)
}

/// The split's files in `pkg/` as site URLs, loader first, for the service worker to precache.
fn split_files(pkg: &Path) -> Result<Vec<String>> {
    let mut loaders = Vec::new();
    let mut chunks = Vec::new();
    for rel in util::files_under(pkg)? {
        let Some(rel) = rel.to_str().map(|r| r.replace('\\', "/")) else {
            continue;
        };
        if is_chunk(&rel) {
            chunks.push(format!("/pkg/{rel}"));
        } else if rel.ends_with(&format!("/{SPLIT_LOADER}")) {
            loaders.push(format!("/pkg/{rel}"));
        }
    }
    anyhow::ensure!(
        loaders.len() == 1,
        "expected one chunk loader in {}, found {loaders:?}",
        pkg.display()
    );
    chunks.sort();
    loaders.extend(chunks);
    Ok(loaders)
}

/// Whether a file of `pkg/` is one of the splitter's chunks (not the main module).
pub fn is_chunk(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    (name.starts_with("split_") || name.starts_with("chunk_")) && name.ends_with(".wasm")
}

/// `wasm` without its `name` custom section. The splitter writes one into every chunk (more than
/// half of its bytes); wasm-bindgen removes the main module's (`remove_name_section`).
fn without_name_section(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.context("not a valid wasm module")?;
        if let wasmparser::Payload::CustomSection(custom) = &payload
            && custom.name() == "name"
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            let data = usize::try_from(range.start)
                .ok()
                .zip(usize::try_from(range.end).ok())
                .and_then(|(start, end)| wasm.get(start..end))
                .context("a section outside the module")?;
            out.section(&wasm_encoder::RawSection { id, data });
        }
    }
    Ok(out.finish())
}

fn keep_names() -> bool {
    std::env::var_os("REFORMBOARD_WASM_NAMES").is_some_and(|v| v == "1")
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", dir.display())),
    }
}

/// The JS glue must come from exactly the wasm-bindgen version the frontend was compiled
/// against: the wasm carries a schema that only the matching generator understands, and a
/// mismatch shows up as a confusing panic or, worse, glue that fails in the browser.
/// xtask is built from the same Cargo.lock, so the lock's cli-support entry is the generator
/// running now.
fn check_bindgen_version(lock_path: &Path) -> Result<()> {
    let lock = fs::read_to_string(lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    check_locked_bindgen(&lock).with_context(|| format!("checking {}", lock_path.display()))
}

fn check_locked_bindgen(lock: &str) -> Result<()> {
    let support = locked_versions(lock, "wasm-bindgen-cli-support");
    let [ours] = support.as_slice() else {
        bail!("expected one wasm-bindgen-cli-support, found {support:?}");
    };
    let frontend = locked_versions(lock, "wasm-bindgen");
    if frontend.is_empty() {
        bail!("no wasm-bindgen package");
    }
    if frontend.iter().any(|v| v != ours) {
        bail!(
            "wasm-bindgen version mismatch: Cargo.lock has wasm-bindgen {} but xtask's \
             wasm-bindgen-cli-support is {ours}. They must be identical. Pin both in the \
             workspace Cargo.toml (`wasm-bindgen = \"={ours}\"`, `wasm-bindgen-cli-support = \
             \"={ours}\"`) or run `cargo update -p wasm-bindgen --precise {ours}`.",
            frontend.join(", ")
        );
    }
    Ok(())
}

/// Versions of a package in a Cargo.lock (more than one when the graph has several majors).
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    let mut current_name: Option<&str> = None;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            current_name = None;
        } else if let Some(value) = toml_string(line, "name") {
            current_name = Some(value);
        } else if let Some(value) = toml_string(line, "version")
            && current_name == Some(name)
        {
            versions.push(value.to_owned());
        }
    }
    versions
}

/// `key = "value"` → `value`; Cargo.lock writes nothing fancier than that for these keys.
fn toml_string<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    rest.trim().strip_prefix('"')?.strip_suffix('"')
}

/// Short content hash of everything the browser downloads, appended as `?v=` to URLs so a new
/// build is never mixed with cached pieces of an old one.
fn build_id(pkg: &Path, static_dir: &Path) -> Result<String> {
    let mut hash = Fnv::new();
    for dir in [pkg, static_dir] {
        for rel in util::files_under(dir)? {
            hash.write(rel.to_string_lossy().as_bytes());
            let path = dir.join(&rel);
            hash.write(&fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
        }
    }
    Ok(format!("{:016x}", hash.finish())[..10].to_owned())
}

/// Identifies the inputs of [`assemble`]: the compiled wasm, the static files and the xtask
/// binary doing the assembling (its size and mtime: a changed recipe must rebuild too).
fn inputs_stamp(wasm: &Path, static_dir: &Path) -> Result<String> {
    let mut hash = Fnv::new();
    hash.write(&fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?);
    for rel in util::files_under(static_dir)? {
        hash.write(rel.to_string_lossy().as_bytes());
        let path = static_dir.join(&rel);
        hash.write(&fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
    }
    hash.write(&[u8::from(keep_names())]);
    if let Ok(meta) = std::env::current_exe().and_then(fs::metadata) {
        hash.write(&meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            hash.write(format!("{modified:?}").as_bytes());
        }
    }
    Ok(format!("{:016x}\n", hash.finish()))
}

/// Copies `frontend/static/` into the site, putting the build id into text files and the list
/// of the split's files into the service worker.
fn copy_static(
    static_dir: &Path,
    site: &Path,
    build_id: &str,
    split_files: &[String],
) -> Result<()> {
    let split_list = split_files
        .iter()
        .map(|url| format!("\"{url}\","))
        .collect::<Vec<_>>()
        .join("\n  ");
    // split_files() puts the loader first.
    let loader = split_files.first().map_or("", String::as_str);
    for rel in util::files_under(static_dir)? {
        let from = static_dir.join(&rel);
        let to = site.join(&rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let templated = rel
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| TEMPLATED_EXTENSIONS.contains(&e));
        if templated {
            let text = fs::read_to_string(&from)
                .with_context(|| format!("reading {} as UTF-8", from.display()))?;
            let text = text
                .replace(BUILD_ID_PLACEHOLDER, build_id)
                .replace(
                    PROTOCOL_PLACEHOLDER,
                    &shared::sync::PROTOCOL_VERSION.to_string(),
                )
                .replace(SPLIT_FILES_PLACEHOLDER, &split_list)
                .replace(SPLIT_LOADER_PLACEHOLDER, loader);
            fs::write(&to, text).with_context(|| format!("writing {}", to.display()))?;
        } else {
            fs::copy(&from, &to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
    }
    Ok(())
}

/// FNV-1a, 64 bit: a stable, dependency-free fingerprint. Only change detection, not security.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        // Length as a separator, so ("ab","c") and ("a","bc") differ.
        for &b in &(bytes.len() as u64).to_le_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "wasm-bindgen-cli-support"
version = "0.2.130"

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"
"#;

    #[test]
    fn finds_locked_versions_by_exact_name() {
        assert_eq!(locked_versions(LOCK, "wasm-bindgen"), ["0.2.130"]);
        assert_eq!(
            locked_versions(LOCK, "wasm-bindgen-cli-support"),
            ["0.2.130"]
        );
        assert!(locked_versions(LOCK, "leptos").is_empty());
    }

    #[test]
    fn bindgen_versions_must_match_exactly() {
        assert!(check_locked_bindgen(LOCK).is_ok());
        let skewed = LOCK.replacen("0.2.130", "0.2.131", 1);
        let err = check_locked_bindgen(&skewed).err().map(|e| e.to_string());
        assert!(
            err.is_some_and(|e| e.contains("wasm-bindgen 0.2.131") && e.contains("is 0.2.130"))
        );
    }

    #[test]
    fn drops_only_the_name_section() -> Result<()> {
        let header = b"\0asm\x01\0\0\0";
        let names = b"\0\x06\x04name\x00";
        let producers = b"\0\x0a\x09producers";
        let types = b"\x01\x01\x00";
        let wasm = [&header[..], types, names, producers].concat();
        assert_eq!(
            without_name_section(&wasm)?,
            [&header[..], types, producers].concat()
        );
        assert!(without_name_section(b"\0asm\x01\0\0\0\x01\x05").is_err());
        Ok(())
    }

    #[test]
    fn recognises_chunks() {
        assert!(is_chunk("pkg/split___audit_view_123.wasm"));
        assert!(is_chunk("/pkg/chunk_17.wasm"));
        assert!(!is_chunk("pkg/frontend_bg.wasm"));
        assert!(!is_chunk("pkg/__wasm_split.js"));
    }

    #[test]
    fn fnv_separates_concatenations() {
        let mut a = Fnv::new();
        a.write(b"ab");
        a.write(b"c");
        let mut b = Fnv::new();
        b.write(b"a");
        b.write(b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
