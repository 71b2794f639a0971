//! `file put | get | ls`: move files to and from a gateway's file folder (contract §8).
//! `put` and `get` show a progress bar on a terminal and print one JSON line at the end; exit 0
//! only when the gateway pulled every byte and confirmed (download result 0) or the digest
//! matched (upload), 1 when the gateway refused or failed (a result 0 without the whole file
//! pulled is a failure), 2 for a usage error (unreadable file, a name that is not a
//! plain file name), 3 for the link or a silent gateway. `ls` prints the listing as one line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bytes::Bytes;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::engine::requests::RequestFailure;
use crate::engine::{EngineConfig, FileDownloadSpec, FileUploadSpec, RequestSpec};
use crate::protocol::ids::{IdKind, check_id, is_safe_file_name};

use super::call::split_target;
use crate::config::link_args::LinkArgs;
use super::ota::{chunk_size_arg, finish, follow, timeout_arg, usage};
use super::session::{CliSession, EXIT_LINK, runtime};

#[derive(Debug, Clone, Subcommand)]
pub enum FileCommand {
    /// Send a local file to the gateway's folder (file/download, pulled by the gateway).
    Put {
        /// PK/DEV
        target: String,
        /// The file to send.
        local: PathBuf,
        /// The plain name to store it under [default: the local file's name].
        #[arg(long)]
        name: Option<String>,
        /// Bytes per chunk, 256 to 65536 (at most 32768 over serial) [default: the largest the link carries].
        #[arg(long)]
        chunk_size: Option<u32>,
        #[command(flatten)]
        link: LinkArgs,
        /// Seconds to wait for the link, and of gateway silence before giving up.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// Fetch a file from the gateway's folder (file/upload, then file/read); written only once
    /// its SHA-256 matches, and atomically.
    Get {
        /// PK/DEV
        target: String,
        /// The gateway's file name.
        name: String,
        /// Where to write it: a file path, or a folder to write NAME in [default: ./NAME].
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        link: LinkArgs,
        /// Seconds to wait for the link, and of gateway silence before giving up.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
    },
    /// List the gateway's files: {"gateway","files":[{"name","size","mtime","plain"}]}.
    Ls {
        /// PK/DEV
        target: String,
        /// A folder on the gateway, when it has several.
        #[arg(long)]
        folder: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
        /// Seconds to wait for the link and for the reply.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
}

pub fn run(command: &FileCommand) -> ExitCode {
    match command {
        FileCommand::Put { target, local, name, chunk_size, link, timeout } => put(target, local, name.as_deref(), *chunk_size, link, *timeout),
        FileCommand::Get { target, name, out, link, timeout } => get(target, name, out.as_deref(), link, *timeout),
        FileCommand::Ls { target, folder, link, timeout } => ls(target, folder.as_deref(), link, *timeout),
    }
}

/// Checks a file name the gateway will see, saying what is wrong with it.
fn plain_name(name: &str, what: &str) -> Result<(), String> {
    check_id(IdKind::FileName, name).map_err(|e| format!("{what}: {e}; a plain file name is [A-Za-z0-9._-], 1 to 128 characters, not . or .."))
}

fn open(link: &LinkArgs, what: &str) -> Result<(tokio::runtime::Runtime, CliSession), ExitCode> {
    let rt = runtime()?;
    let session = {
        // Not the site's master: leave alarm and history acknowledgements to it.
        let config = EngineConfig { master_duties: false, ..EngineConfig::default() };
        CliSession::open(&rt, link, &format!("file-{what}"), config, None)?
    };
    Ok((rt, session))
}

fn put(target: &str, local: &Path, name: Option<&str>, chunk_size: Option<u32>, link: &LinkArgs, timeout_secs: f64) -> ExitCode {
    let checked = (|| {
        let (pk, dev) = split_target(target, "target")?;
        let timeout = timeout_arg(timeout_secs)?;
        let chunk_size = chunk_size_arg(chunk_size, link)?;
        let name = match name {
            Some(n) => n.to_owned(),
            None => local.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| format!("{}: not a file; give --name", local.display()))?,
        };
        plain_name(&name, if name.is_empty() { "--name" } else { "name" })?;
        let data = std::fs::read(local).map_err(|e| format!("{}: {e}", local.display()))?;
        Ok::<_, String>((pk, dev, timeout, chunk_size, name, Bytes::from(data)))
    })();
    let (pk, dev, timeout, chunk_size, name, data) = match checked {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let (rt, mut cli) = match open(link, "put") {
        Ok(o) => o,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let size = data.len() as u64;
        let mut spec = FileDownloadSpec::new(cli.session, &pk, &dev, &name, data);
        spec.chunk_size = chunk_size;
        spec.silence_timeout = timeout;
        let Ok(id) = cli.handle.start_file_download(spec) else {
            eprintln!("error: the engine stopped");
            return ExitCode::from(EXIT_LINK);
        };
        let status = follow(&mut cli, &id, size, &format!("{pk}/{dev} {name}"), timeout).await;
        cli.handle.shutdown();
        finish(status)
    })
}

/// Where `get` writes: `--out` as a file, or NAME inside `--out` when it is a folder.
fn destination(name: &str, out: Option<&Path>) -> Result<PathBuf, String> {
    let dest = match out {
        None => PathBuf::from(name),
        Some(dir) if dir.is_dir() => dir.join(name),
        Some(file) => file.to_path_buf(),
    };
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(format!("--out {}: folder {} does not exist", dest.display(), parent.display()));
    }
    Ok(dest)
}

fn get(target: &str, name: &str, out: Option<&Path>, link: &LinkArgs, timeout_secs: f64) -> ExitCode {
    let checked = (|| {
        let (pk, dev) = split_target(target, "target")?;
        let timeout = timeout_arg(timeout_secs)?;
        // Checked before it is used in a local path (./NAME, FOLDER/NAME) or sent.
        plain_name(name, "NAME")?;
        let dest = destination(name, out)?;
        Ok::<_, String>((pk, dev, timeout, dest))
    })();
    let (pk, dev, timeout, dest) = match checked {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let (rt, mut cli) = match open(link, "get") {
        Ok(o) => o,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let mut spec = FileUploadSpec::new(cli.session, &pk, &dev, name, dest);
        spec.silence_timeout = timeout;
        let Ok(id) = cli.handle.start_file_upload(spec) else {
            eprintln!("error: the engine stopped");
            return ExitCode::from(EXIT_LINK);
        };
        let status = follow(&mut cli, &id, 0, &format!("{pk}/{dev} {name}"), timeout).await;
        cli.handle.shutdown();
        finish(status)
    })
}

fn ls(target: &str, folder: Option<&str>, link: &LinkArgs, timeout_secs: f64) -> ExitCode {
    let checked = split_target(target, "target").and_then(|t| timeout_arg(timeout_secs).map(|d| (t, d)));
    let ((pk, dev), timeout) = match checked {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let (rt, mut cli) = match open(link, "ls") {
        Ok(o) => o,
        Err(code) => return code,
    };
    let data = match folder {
        Some(f) => json!({"folder": f}),
        None => json!({}),
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let mut spec = RequestSpec::new(cli.session, &pk, &dev, "file", "list", data);
        spec.timeout = timeout;
        let outcome = cli.handle.call(spec).await;
        cli.handle.shutdown();
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_LINK);
            }
        };
        match outcome.result {
            Ok(reply) if reply.code == 0 => {
                println!("{}", json!({"gateway": format!("{pk}/{dev}"), "files": listing(&reply.data)}));
                ExitCode::SUCCESS
            }
            Ok(reply) => {
                println!("{}", json!({"gateway": format!("{pk}/{dev}"), "code": reply.code, "name": reply.name, "msg": reply.msg}));
                eprintln!("error: file/list: code {} ({}) {}", reply.code, reply.name, reply.msg.unwrap_or_default());
                ExitCode::FAILURE
            }
            Err(RequestFailure::Timeout { after_ms }) => {
                eprintln!("error: file/list {} to {pk}/{dev}: no reply within {after_ms} ms", outcome.id);
                ExitCode::from(EXIT_LINK)
            }
            Err(e) => {
                eprintln!("error: file/list {}: {e}", outcome.id);
                ExitCode::from(EXIT_LINK)
            }
        }
    })
}

/// The reply's files, each marked `plain` when its name could be fetched as is: a name from the
/// gateway is shown, never trusted as a path.
fn listing(data: &Value) -> Vec<Value> {
    let Some(files) = data.get("files").and_then(Value::as_array) else { return Vec::new() };
    files
        .iter()
        .map(|f| {
            let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
            json!({"name": name, "size": f.get("size"), "mtime": f.get("mtime"), "plain": is_safe_file_name(name)})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused_and_folders_resolved() {
        for bad in ["../x", "/etc/passwd", "a/b", "", "..", "a\\b"] {
            assert!(plain_name(bad, "NAME").is_err(), "{bad:?}");
        }
        assert!(plain_name("fw-1.2.bin", "NAME").is_ok());
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(destination("a.txt", Some(dir.path())).unwrap(), dir.path().join("a.txt"));
        assert_eq!(destination("a.txt", Some(&dir.path().join("b.txt"))).unwrap(), dir.path().join("b.txt"));
        assert!(destination("a.txt", Some(&dir.path().join("missing/b.txt"))).is_err());
        let rows = listing(&json!({"files": [{"name": "ok.txt", "size": 1, "mtime": 2}, {"name": "../evil", "size": 0, "mtime": 0}]}));
        assert_eq!((rows[0]["plain"].as_bool(), rows[1]["plain"].as_bool()), (Some(true), Some(false)));
    }
}
