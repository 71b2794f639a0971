//! The application-side API (GB/T 35031.5, `shared/protocol/app-api.md`) over HTTP: the server
//! that answers from the engine's state and the point history, and the client (and probe) that
//! calls another master's. The contract's pure part is `crate::protocol::app_api`.

pub mod answer;
pub mod apps;
pub mod catalog;
pub mod client;
pub mod guard;
pub mod probe;
pub mod server;
pub mod source;

pub use answer::{Answer, ApiData, ApiService, Call, Data};
pub use apps::{ApiConfig, App, Site};
pub use client::{ApiClient, Exchange, H2Connection, HttpVersion, RawRequest, Reply};
pub use source::{ApiSource, FixedSource};
pub use server::{ApiServer, ListenOptions, router, tls_config};
