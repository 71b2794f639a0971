//! One call from request to answer, without HTTP: the interface from the path, the security
//! checks (`guard`), the body, the site, then the interface's own answer. The server
//! (`super::server`) wraps this; tests call it directly too.

mod dynamic;
mod historic;
mod scope;
mod static_data;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use super::apps::ApiConfig;
use super::catalog::{SiteView, ViewCache};
use super::guard::Guard;
use super::source::ApiSource;
use crate::engine::history::{HistoryDb, HistoryError};
use crate::protocol::app_api::model::Page;
use crate::protocol::app_api::request::{RequestError, cems_id_of};
use crate::protocol::app_api::{ApiCode, ApiRequest, Family, Interface, MAX_BODY_BYTES, VERSION, envelope, headers};
use crate::protocol::model::ModelSet;

/// What the answers are made from: the engine's state, the models, the point history.
pub struct ApiData {
    pub source: Box<dyn ApiSource>,
    models: RwLock<Arc<ModelSet>>,
    /// The history read when the engine has none attached (`api serve --db`).
    history_path: Option<PathBuf>,
    history: Mutex<Option<HistoryDb>>,
}

impl ApiData {
    pub fn new(source: Box<dyn ApiSource>, models: ModelSet, history_path: Option<PathBuf>) -> ApiData {
        ApiData { source, models: RwLock::new(Arc::new(models)), history_path, history: Mutex::new(None) }
    }

    /// Replaces the models (the window reloads them).
    pub fn set_models(&self, models: ModelSet) {
        *self.models.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(models);
    }

    pub fn models(&self) -> Arc<ModelSet> {
        self.models.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs `read` on the point history (the engine's attached one, else the configured one),
    /// opened read-only once and kept; `None` when there is none.
    pub(crate) fn with_history<T>(&self, read: impl FnOnce(&HistoryDb) -> Result<T, HistoryError>) -> Result<Option<T>, HistoryError> {
        let path = self.source.history_path().or_else(|| self.history_path.clone());
        let Some(path) = path else { return Ok(None) };
        let mut held = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if held.as_ref().is_none_or(|db| db.path() != path) {
            if !path.exists() {
                return Ok(None);
            }
            *held = Some(HistoryDb::open_read_only(&path)?);
        }
        match held.as_ref() {
            Some(db) => read(db).map(Some),
            None => Ok(None),
        }
    }
}

/// An answer's `data`: a JSON value, or a list of items already serialised (dynamic values,
/// written once per view) to be joined under `key`.
pub enum Data<'v> {
    Json(Value),
    List { key: &'static str, items: Vec<&'v str> },
}

/// An answer: HTTP status and the envelope's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn error(e: &RequestError) -> Answer {
        Answer::with_status(e.code.http_status(), e.code, &e.msg)
    }

    pub fn with_status(status: u16, code: ApiCode, msg: &str) -> Answer {
        Answer { status, bytes: to_bytes(&envelope(code, msg, Value::Object(Map::new()), None)) }
    }

    /// A success: `{"code":0,"msg":"ok","data":…}` and `page` when given.
    pub fn ok(data: Data<'_>, page: Option<Page>) -> Answer {
        let bytes = match data {
            Data::Json(value) => to_bytes(&envelope(ApiCode::Ok, "ok", value, page)),
            Data::List { key, items } => {
                let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 96);
                out.extend_from_slice(br#"{"code":0,"msg":"ok","data":{""#);
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(br#"":["#);
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(item.as_bytes());
                }
                out.extend_from_slice(b"]}");
                if let Some(page) = page {
                    out.extend_from_slice(br#","page":"#);
                    out.extend_from_slice(&to_bytes(&serde_json::json!(page)));
                }
                out.push(b'}');
                out
            }
        };
        Answer { status: 200, bytes }
    }

    /// The envelope as JSON (tests, panels).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

fn to_bytes(value: &Value) -> Vec<u8> {
    // A Value always serialises (its map keys are strings).
    serde_json::to_vec(value).unwrap_or_default()
}

/// The parts of a request the answer depends on.
pub struct Call<'a> {
    pub method: &'a str,
    /// Without query.
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub now_ms: i64,
}

/// The server's whole setup.
pub struct ApiService {
    pub data: Arc<ApiData>,
    pub config: ApiConfig,
    pub base: String,
    pub guard: Guard,
    views: ViewCache,
}

impl ApiService {
    pub fn new(data: Arc<ApiData>, config: ApiConfig) -> ApiService {
        ApiService { data, config, base: crate::protocol::app_api::DEFAULT_BASE.to_owned(), guard: Guard::default(), views: ViewCache::default() }
    }

    /// The interface a path names, or 2008.
    pub fn interface_of(&self, path: &str) -> Result<Interface, RequestError> {
        let prefix = format!("{}/cems/", self.base.trim_end_matches('/'));
        path.strip_prefix(&prefix)
            .and_then(Interface::from_name)
            .ok_or_else(|| RequestError::new(ApiCode::UnknownInterface, format!("no interface at {path}")))
    }

    /// Answers one call (body already read whole and within the limit).
    pub fn answer(&self, call: &Call<'_>) -> Answer {
        if call.method != "POST" {
            return Answer::with_status(ApiCode::STATUS_METHOD_NOT_ALLOWED, ApiCode::UnknownInterface, "only POST is served");
        }
        if call.body.len() > MAX_BODY_BYTES {
            return Answer::with_status(ApiCode::STATUS_BODY_TOO_LARGE, ApiCode::BadParameter, "the body is larger than 1 MiB");
        }
        match self.checked(call) {
            Ok(answer) => answer,
            Err(e) => {
                if e.code == ApiCode::Internal {
                    tracing::warn!(path = call.path, "app API: {}", e.msg);
                }
                Answer::error(&e)
            }
        }
    }

    fn checked(&self, call: &Call<'_>) -> Result<Answer, RequestError> {
        let interface = self.interface_of(call.path)?;
        let app = self.guard.admit(&self.config, call.method, call.path, call.headers, call.body, call.now_ms)?;
        let version = call.headers.get(headers::VERSION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if version != VERSION {
            return Err(RequestError::new(ApiCode::BadParameter, format!("X-Cems-Version {version:?}: this server speaks {VERSION}")));
        }
        let body: Value = serde_json::from_slice(call.body).map_err(|e| RequestError::new(ApiCode::NotJsonObject, format!("the body is not JSON: {e}")))?;
        let Value::Object(body) = body else { return Err(RequestError::new(ApiCode::NotJsonObject, "the body is not a JSON object")) };
        let cems_id = cems_id_of(&body)?;
        if !app.cems.contains(&cems_id) {
            return Err(RequestError::new(ApiCode::SiteNotGranted, format!("app {} may not read cemsId {cems_id}", app.app_id)));
        }
        let Some(site) = self.config.site(&cems_id) else {
            return Err(RequestError::new(ApiCode::UnknownCems, format!("unknown cemsId {cems_id}")));
        };
        let request = ApiRequest::parse(interface, &body)?;
        let view = self.views.view(self.data.source.as_ref(), &self.data.models(), site);
        let (data, page) = answer_interface(&self.data, &view, interface, &request)?;
        Ok(Answer::ok(data, page))
    }
}

/// The interface's own answer: `data` and, when paged, `page`.
pub fn answer_interface<'v>(data: &ApiData, view: &'v SiteView, interface: Interface, request: &ApiRequest) -> Result<(Data<'v>, Option<Page>), RequestError> {
    let json = |r: Result<(Value, Option<Page>), RequestError>| r.map(|(v, p)| (Data::Json(v), p));
    match interface.family {
        Family::Static => json(static_data::answer(view, interface, request)),
        Family::Dynamic => dynamic::answer(view, interface, request),
        Family::Historic => json(historic::historic(data, view, interface, request)),
        Family::Statistic => json(historic::statistic(data, view, interface, request)),
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> RequestError {
    RequestError::new(ApiCode::Internal, e.to_string())
}
