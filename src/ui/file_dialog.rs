//! File dialogs (rfd) on a thread of their own, and what the window says when none can open.
//!
//! On Linux rfd asks the desktop portal over D-Bus and falls back to zenity; with neither (a bare
//! X server, Xvfb, a minimal install) it returns nothing, exactly as if the user had cancelled.
//! So what can be known is looked at before trying: without zenity and without a session bus no
//! dialog can open, and with only a bus an empty answer may mean there was none. Every picker
//! keeps a typed path field beside its "…" button; on such an answer it says so and puts the
//! cursor there.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::protocol::model::Lang;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::i18n::tr;
use crate::ui::widgets::fill;

/// Set: every dialog reports that it cannot open, as on a system without any.
static DIALOGS_OFF: AtomicBool = AtomicBool::new(false);

/// Makes every file dialog report that it cannot open (or lets them open again). For tests,
/// which must never pop a real dialog, and for a system where the dialog hangs.
pub fn turn_dialogs_off(off: bool) {
    DIALOGS_OFF.store(off, Ordering::Relaxed);
}

/// What can be told before a dialog is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A dialog opens (Windows, macOS, or zenity found).
    Sure,
    /// Only the desktop portal may answer: an empty answer may mean it is not there.
    PortalOnly,
    /// No dialog can open.
    None,
}

/// The dialog backend of this system, as far as can be told without trying.
pub fn backend() -> Backend {
    if DIALOGS_OFF.load(Ordering::Relaxed) {
        return Backend::None;
    }
    platform_backend()
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn platform_backend() -> Backend {
    Backend::Sure
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_backend() -> Backend {
    let on_path = |program: &str| std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()));
    if on_path("zenity") {
        return Backend::Sure;
    }
    let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|dir| PathBuf::from(dir).join("bus").exists());
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty()) || runtime_bus { Backend::PortalOnly } else { Backend::None }
}

/// The dialog to show.
#[derive(Debug, Clone)]
pub enum DialogRequest {
    /// Choose an existing file; `filters` are (name, extensions).
    Open { title: String, start_dir: Option<PathBuf>, filters: Vec<(String, Vec<String>)> },
    /// Name a file to write, `file_name` proposed.
    Save { title: String, start_dir: Option<PathBuf>, file_name: String },
}

/// Why no path came from a dialog, when the user should hear of it.
#[derive(Debug, Clone, PartialEq)]
pub enum DialogProblem {
    /// Nothing can show a dialog here.
    Unavailable,
    /// Nothing came back and no dialog may have been shown.
    MaybeUnavailable,
    /// The dialog's thread could not start.
    Spawn(String),
}

impl DialogProblem {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            DialogProblem::Unavailable => tr(lang, "No file dialog can open here (no desktop portal, no zenity): type the path in the field.").to_owned(),
            DialogProblem::MaybeUnavailable => {
                tr(lang, "No file was chosen. If no dialog appeared, this system has none (no desktop portal, no zenity): type the path in the field.").to_owned()
            }
            DialogProblem::Spawn(e) => fill(tr(lang, "Cannot open a file dialog: {error}"), &[("error", e)]),
        }
    }
}

/// How an open dialog ended, polled each frame.
#[derive(Debug, Clone, PartialEq)]
pub enum DialogEnd {
    Waiting,
    Chosen(PathBuf),
    /// Closed without a path: cancelled, or, when a problem is given, maybe never shown.
    NothingChosen(Option<DialogProblem>),
}

/// A dialog open on its own thread (rfd blocks its caller until the dialog closes).
#[derive(Debug)]
pub struct Dialog {
    pending: Pending<Option<PathBuf>>,
    backend: Backend,
}

impl Dialog {
    /// Opens `request`, or says at once why no dialog can.
    pub fn open(request: DialogRequest) -> Result<Dialog, DialogProblem> {
        let backend = backend();
        if backend == Backend::None {
            return Err(DialogProblem::Unavailable);
        }
        let pending = Pending::spawn("file-dialog", move || match request {
            DialogRequest::Open { title, start_dir, filters } => {
                let mut dialog = rfd::FileDialog::new().set_title(title);
                for (name, extensions) in &filters {
                    dialog = dialog.add_filter(name, extensions);
                }
                if let Some(dir) = start_dir {
                    dialog = dialog.set_directory(dir);
                }
                dialog.pick_file()
            }
            DialogRequest::Save { title, start_dir, file_name } => {
                let mut dialog = rfd::FileDialog::new().set_title(title).set_file_name(file_name);
                if let Some(dir) = start_dir {
                    dialog = dialog.set_directory(dir);
                }
                dialog.save_file()
            }
        });
        match pending {
            Ok(pending) => Ok(Dialog { pending, backend }),
            Err(e) => Err(DialogProblem::Spawn(e.to_string())),
        }
    }

    pub fn poll(&self) -> DialogEnd {
        match self.pending.poll() {
            Poll::Waiting => DialogEnd::Waiting,
            Poll::Ready(Some(path)) => DialogEnd::Chosen(path),
            Poll::Ready(None) => DialogEnd::NothingChosen((self.backend == Backend::PortalOnly).then_some(DialogProblem::MaybeUnavailable)),
            Poll::Lost => DialogEnd::NothingChosen(Some(DialogProblem::Spawn("the dialog's thread ended".into()))),
        }
    }
}

/// The folder a dialog starts in: the one of the path typed so far, when it exists.
pub fn start_dir_of(path: &str) -> Option<PathBuf> {
    PathBuf::from(path.trim()).parent().filter(|d| d.is_dir()).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_dialogs_off_none_opens_and_the_user_is_told_to_type_the_path() {
        turn_dialogs_off(true);
        assert_eq!(backend(), Backend::None);
        let opened = Dialog::open(DialogRequest::Open { title: "t".into(), start_dir: None, filters: Vec::new() });
        assert_eq!(opened.err(), Some(DialogProblem::Unavailable));
        assert!(DialogProblem::Unavailable.message(Lang::En).contains("type the path"));
        assert!(!DialogProblem::Unavailable.message(Lang::Zh).contains("type the path"));
        turn_dialogs_off(false);
    }

    #[test]
    fn a_dialog_starts_in_the_folder_of_the_typed_path() {
        let dir = tempfile::tempdir().unwrap();
        let typed = dir.path().join("image.bin").display().to_string();
        assert_eq!(start_dir_of(&typed).as_deref(), Some(dir.path()));
        assert_eq!(start_dir_of("/no/such/folder/x.bin"), None);
        assert_eq!(start_dir_of(""), None);
    }
}
