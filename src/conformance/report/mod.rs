//! The commissioning report: its content defined once ([`doc::Document`], from a
//! [`RunReport`](crate::conformance::RunReport) and a language) and rendered as one
//! self-contained HTML file ([`html`]) or as a PDF ([`pdf`]).

pub mod doc;
pub mod html;
pub mod pdf;
