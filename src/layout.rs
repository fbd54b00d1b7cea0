//! The executable form of the Layout section of `lib.rs`: every top-level
//! module sits in one numbered layer there, and a module may import only
//! from layers listed before its own.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

    /// Layer of each module, read from the numbered list under `# Layout`.
    fn layers(lib_rs: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        let section = lib_rs
            .split("//! # Layout")
            .nth(1)
            .expect("lib.rs has a Layout section");
        for line in section.lines().skip(1).take_while(|l| l.starts_with("//!")) {
            let text = line.trim_start_matches("//!").trim_start();
            let Some((n, rest)) = text.split_once(". ") else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else { continue };
            let names = rest.split(':').next().unwrap_or("");
            for part in names.split("[`").skip(1) {
                let name = part.split('`').next().unwrap_or("");
                out.insert(name.to_string(), n);
            }
        }
        out
    }

    /// The `pub mod` / `mod` lines of lib.rs (the top-level modules).
    fn declared(lib_rs: &str) -> Vec<String> {
        lib_rs
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_string)
            })
            .filter(|m| m != "layout")
            .collect()
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    /// Every file of top-level module `m`.
    fn files_of(m: &str) -> Vec<PathBuf> {
        let dir = Path::new(SRC).join(m);
        let mut files = Vec::new();
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(Path::new(SRC).join(format!("{m}.rs")));
        }
        files
    }

    /// The top-level modules `text` names as `crate::<name>`, with line numbers.
    fn crate_paths(text: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let before = rest[..at].chars().next_back();
                rest = &rest[at + "crate::".len()..];
                // `mock_server::...` or `some_crate::` are other crates.
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((i + 1, name));
                }
            }
        }
        out
    }

    /// Imports that point the wrong way: from a layer to the same or a later one.
    fn backward_imports() -> Vec<String> {
        let lib_rs = std::fs::read_to_string(Path::new(SRC).join("lib.rs")).unwrap();
        let layer = layers(&lib_rs);
        let mut wrong = Vec::new();
        for m in declared(&lib_rs) {
            let Some(&own) = layer.get(&m) else {
                wrong.push(format!("module {m} is in no layer of lib.rs's Layout"));
                continue;
            };
            for file in files_of(&m) {
                let text = std::fs::read_to_string(&file).unwrap();
                for (line, to) in crate_paths(&text) {
                    if to == m {
                        continue;
                    }
                    match layer.get(&to) {
                        Some(&theirs) if theirs < own => {}
                        Some(&theirs) => wrong.push(format!(
                            "{}:{line}: {m} (layer {own}) uses crate::{to} (layer {theirs})",
                            file.display()
                        )),
                        // Root re-exports (`crate::Workload`) and the like.
                        None => {}
                    }
                }
            }
        }
        wrong
    }

    #[test]
    fn every_module_imports_only_from_the_layers_before_its_own() {
        let wrong = backward_imports();
        assert!(
            wrong.is_empty(),
            "imports against the Layout of lib.rs:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn the_layout_names_every_module_once() {
        let lib_rs = std::fs::read_to_string(Path::new(SRC).join("lib.rs")).unwrap();
        let layer = layers(&lib_rs);
        let mut declared = declared(&lib_rs);
        declared.sort();
        let listed: Vec<String> = layer.keys().cloned().collect();
        assert_eq!(listed, declared);
    }

    #[test]
    fn crate_paths_are_found_and_other_crates_are_not() {
        let found = crate_paths(
            "use crate::http::{self, X};\nlet y = mock_server::crate_x; crate::sys::fs",
        );
        assert_eq!(found, vec![(1, "http".to_string()), (2, "sys".to_string())]);
    }
}
