//! The gateway's own file folder: listing, hashing and reading files for `file/list`,
//! `file/upload` and `file/read`, and writing downloaded files atomically. Only plain names
//! (contract §8) ever reach the file system.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest as _, Sha256};

use crate::protocol::ids::is_safe_file_name;
use crate::protocol::payload::FileEntry;

/// The path of plain file `name` in `dir`, or `None` for a hostile name.
pub fn path_in(dir: &Path, name: &str) -> Option<PathBuf> {
    is_safe_file_name(name).then(|| dir.join(name))
}

/// The files of `dir`, by name; partial downloads (dot files) are left out.
pub fn list(dir: &Path) -> io::Result<Vec<FileEntry>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata()?;
        if !meta.is_file() || name.starts_with('.') || !is_safe_file_name(&name) {
            continue;
        }
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        files.push(FileEntry { name, size: meta.len(), mtime });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Size and lowercase hex SHA-256 of a file, read in pieces.
pub fn size_and_sha256(path: &Path) -> io::Result<(u64, String)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Up to `length` bytes of a file from `offset` (fewer at the end).
pub fn read_chunk(path: &Path, offset: u64, length: usize) -> io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut data = Vec::with_capacity(length);
    file.take(length as u64).read_to_end(&mut data)?;
    Ok(data)
}

/// Writes `data` as `dir/name`, atomically; `name` must be a plain file name (contract §8).
pub fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    let Some(target) = path_in(dir, name) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{name:?} is not a plain file name")));
    };
    crate::disk::write_atomic(&target, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_list_hash_read() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.bin", b"hello world").unwrap();
        fs::write(dir.path().join(".b.part"), b"x").unwrap();
        let files = list(dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!((files[0].name.as_str(), files[0].size), ("a.bin", 11));
        let (size, sum) = size_and_sha256(&dir.path().join("a.bin")).unwrap();
        assert_eq!(size, 11);
        assert_eq!(sum, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(sum, crate::protocol::digest::sha256_hex(b"hello world"));
        assert_eq!(read_chunk(&dir.path().join("a.bin"), 6, 100).unwrap(), b"world");
        assert!(write_atomic(dir.path(), "../escape", b"x").is_err());
        assert!(path_in(dir.path(), "..").is_none());
    }
}
