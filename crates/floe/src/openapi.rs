//! `GET /{version}/openapi.json`: the contract floe serves, for each supported version.
//! The document is the same for every version but its `info.version`.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::version::SUPPORTED;

const SPEC: &[u8] = include_bytes!("../openapi/polar-2026-10.json");
const SPEC_VERSION: &str = "2026-10";

fn documents() -> &'static HashMap<&'static str, Vec<u8>> {
    static DOCUMENTS: OnceLock<HashMap<&'static str, Vec<u8>>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        SUPPORTED
            .iter()
            .map(|version| {
                let bytes = if *version == SPEC_VERSION {
                    SPEC.to_vec()
                } else {
                    with_version(version).unwrap_or_else(|| SPEC.to_vec())
                };
                (*version, bytes)
            })
            .collect()
    })
}

fn with_version(version: &str) -> Option<Vec<u8>> {
    let mut document: serde_json::Value = serde_json::from_slice(SPEC).ok()?;
    *document.get_mut("info")?.get_mut("version")? = serde_json::Value::String(version.to_owned());
    serde_json::to_vec(&document).ok()
}

pub async fn serve(Path(version): Path<String>) -> Response {
    match documents().get(version.as_str()) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"detail": "Not Found"})),
        )
            .into_response(),
    }
}
