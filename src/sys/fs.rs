//! Files written whole or not at all.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `contents` (text or bytes) to `path` atomically: a temporary file
/// beside it (`tempfile`), synced to disk, then renamed over `path`, so a
/// reader (or a Ctrl-C) never sees half a file. On any error the temporary
/// file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    // Mode 0666 less the umask, as `File::create` gives: tempfile's own
    // default, 0600, would make every result file private to its writer.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(contents.as_ref())?;
    tmp.as_file().sync_all()?;
    // A failed rename hands the temporary file back in the error; dropping it removes it.
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("concbench-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces_a_file_with_nothing_left_beside_it() {
        let dir = dir("replace");
        let path = dir.join("out.json");
        write_atomically(&path, "first").unwrap();
        write_atomically(&path, b"second".as_slice()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(entries(&dir), ["out.json"]);
        // The mode File::create would give (0666 less the umask), not tempfile's 0600.
        let plain = dir.join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = dir("fail");
        // A rename over a non-empty directory fails after the temporary file was written.
        let path = dir.join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), "x").unwrap();
        assert!(write_atomically(&path, "contents").is_err());
        assert_eq!(entries(&dir), ["taken"]);
        assert!(write_atomically(&dir.join("missing/out.json"), "x").is_err());
        assert_eq!(entries(&dir), ["taken"]);
        assert!(write_atomically(Path::new("/"), "x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
