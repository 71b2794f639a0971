//! Work that must not run on the UI thread (file dialogs, port scans): a std thread does it and
//! the panel looks for the result once per frame.

use std::sync::mpsc;

/// The result of a piece of work running on its own thread.
#[derive(Debug)]
pub struct Pending<T> {
    result: mpsc::Receiver<T>,
}

/// What [`Pending::poll`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll<T> {
    Waiting,
    Ready(T),
    /// The thread ended without a result (it panicked): stop waiting.
    Lost,
}

impl<T: Send + 'static> Pending<T> {
    /// Runs `work` on a new thread named `name`.
    pub fn spawn(name: &str, work: impl FnOnce() -> T + Send + 'static) -> std::io::Result<Pending<T>> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            // The panel may have been closed meanwhile; nobody to tell then.
            let _ = tx.send(work());
        })?;
        Ok(Pending { result: rx })
    }

    /// The result once it is there (given once), without waiting.
    pub fn poll(&self) -> Poll<T> {
        match self.result.try_recv() {
            Ok(value) => Poll::Ready(value),
            Err(mpsc::TryRecvError::Empty) => Poll::Waiting,
            Err(mpsc::TryRecvError::Disconnected) => Poll::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_result_arrives_once() {
        let pending = Pending::spawn("test", || 42).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match pending.poll() {
                Poll::Ready(v) => {
                    assert_eq!(v, 42);
                    break;
                }
                Poll::Waiting => assert!(Instant::now() < deadline),
                Poll::Lost => panic!("lost"),
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(pending.poll(), Poll::Lost);
    }
}
