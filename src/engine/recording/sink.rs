//! Where a recording's bytes go: a buffered file, counted, so the recorder knows the size it
//! handed to the OS without asking the MCAP writer.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A byte destination for one recording file. `sync` makes it durable at the end.
pub(crate) trait Sink: Write + Send {
    fn sync(&mut self) -> io::Result<()>;
}

impl Sink for BufWriter<File> {
    fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.get_ref().sync_all()
    }
}

/// Opens the sink for one file of a recording.
pub(crate) type Opener = Box<dyn FnMut(&Path) -> io::Result<Box<dyn Sink>> + Send>;

pub(crate) fn file_opener() -> Opener {
    Box::new(|path: &Path| {
        let file = File::create(path)?;
        // Held while the file is written, so another workbench's start-up never "recovers" a
        // recording still in progress. Best effort: some network file systems cannot lock.
        let _ = file.try_lock();
        Ok(Box::new(BufWriter::with_capacity(256 * 1024, file)) as Box<dyn Sink>)
    })
}

/// A sink that counts what is written through it. The MCAP writer needs `Seek` in its type; with
/// seeking disabled it only ever asks for the current position.
pub(crate) struct Counted {
    inner: Box<dyn Sink>,
    written: Arc<AtomicU64>,
}

impl Counted {
    pub(crate) fn new(inner: Box<dyn Sink>) -> (Counted, Arc<AtomicU64>) {
        let written = Arc::new(AtomicU64::new(0));
        (Counted { inner, written: written.clone() }, written)
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.inner.sync()
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Seek for Counted {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match pos {
            SeekFrom::Current(0) => Ok(self.written.load(Ordering::Relaxed)),
            _ => Err(io::Error::new(io::ErrorKind::Unsupported, "a recording is written front to back")),
        }
    }
}
