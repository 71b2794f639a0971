//! Conformance runs (issue 18): a catalogue of test cases from the contract, run against one
//! gateway through the engine, each judged Passed, Failed or Inconclusive with its evidence,
//! and a commissioning report (HTML or PDF) of the run. Faces (CLI `check`, a GUI tab) call [`run`].

pub mod catalogue;
mod cases;
mod ctx;
mod load;
pub mod model;
pub mod options;
pub mod report;
pub mod runner;
mod snapshot;

pub use catalogue::{CaseDef, CaseText, Catalogue, CatalogueError};
pub use model::{CaseResult, Deficiency, Evidence, EvidenceKind, RunReport, Summary, Verdict};
pub use report::{html as report_html, pdf as report_pdf};
pub use options::{CancelToken, FirmwareImage, ManualAnswer, ManualHandler, ManualPrompt, Progress, RunOptions};
pub use runner::run;
