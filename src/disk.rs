//! Writing files so that no reader ever sees half of one: a temporary file beside the target,
//! flushed to disk, then renamed over it. A crash, a full disk or a pulled cable leaves the old
//! file or the new one, and the temporary file is removed on failure.
//!
//! One implementation for the whole crate: profiles and secrets, files fetched from a gateway,
//! and the simulator's folder all write through here.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes `data` to `dest` atomically. The folder must exist.
pub fn write_atomic(dest: &Path, data: &[u8]) -> io::Result<()> {
    write(dest, data, false)
}

/// Like [`write_atomic`], for files only their owner may read (mode 0600 on Unix; on Windows
/// the user's profile folder already is private).
pub fn write_atomic_private(dest: &Path, data: &[u8]) -> io::Result<()> {
    write(dest, data, true)
}

fn write(dest: &Path, data: &[u8], private: bool) -> io::Result<()> {
    let Some(name) = dest.file_name() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{}: not a file path", dest.display())));
    };
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Unique per process and moment: two writers of one file never share a temporary file.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{}.part-{}-{nanos}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&temp)?;
        file.write_all(data)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, dest)
    })();
    if result.is_err() {
        // Best effort: the temporary file may not even exist.
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", dest.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"old content, longer").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("missing/x.bin"), b"x").unwrap_err();
        assert!(err.to_string().contains("x.bin"), "{err}");
        assert!(write_atomic(Path::new("/"), b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_mode_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        write_atomic_private(&path, b"{}").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
