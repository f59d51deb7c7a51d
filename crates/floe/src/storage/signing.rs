//! Presigned URLs for the local backend: an expiry and an HMAC over the method, the path
//! and every query parameter, so that neither the object, the part, the expiry nor the
//! download's presentation can be changed without the signature failing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::auth::ServerSecret;
use crate::clock::Clock;

pub const EXPIRES: &str = "X-Floe-Expires";
pub const SIGNATURE: &str = "X-Floe-Signature";
const PURPOSE: &str = "storage-url";

/// Characters left as they are in query values: RFC 3986's unreserved set.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Clone, Debug)]
pub struct UrlSigner {
    secret: ServerSecret,
    clock: Clock,
    ttl: Duration,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the URL carries no signature")]
    Missing,
    #[error("the URL's signature does not match")]
    Invalid,
    #[error("the URL has expired")]
    Expired,
}

impl UrlSigner {
    pub fn new(secret: ServerSecret, clock: Clock, ttl: Duration) -> Self {
        Self { secret, clock, ttl }
    }

    /// The query string (without `?`) that makes `method path?params` valid until the
    /// returned time.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
    ) -> (String, DateTime<Utc>) {
        let expires_at =
            self.clock.now() + chrono::Duration::from_std(self.ttl).unwrap_or_default();
        let expires = expires_at.timestamp().to_string();
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.push((EXPIRES.to_owned(), expires));
        let signature = hex::encode(
            self.secret
                .sign(PURPOSE, canonical(method, path, &all).as_bytes()),
        );
        all.push((SIGNATURE.to_owned(), signature));
        (encode_query(&all), expires_at)
    }

    /// Checks the signature and expiry of a request; returns its other parameters.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Vec<(String, String)>, SignatureError> {
        let mut signature = None;
        let mut params = Vec::with_capacity(query.len());
        for (key, value) in query {
            if key == SIGNATURE {
                if signature.replace(value.as_str()).is_some() {
                    return Err(SignatureError::Invalid);
                }
            } else {
                params.push((key.clone(), value.clone()));
            }
        }
        let signature = signature.ok_or(SignatureError::Missing)?;
        let signature = hex::decode(signature).map_err(|_| SignatureError::Invalid)?;
        if !self.secret.verify(
            PURPOSE,
            canonical(method, path, &params).as_bytes(),
            &signature,
        ) {
            return Err(SignatureError::Invalid);
        }
        let expires: i64 = params
            .iter()
            .find(|(k, _)| k == EXPIRES)
            .and_then(|(_, v)| v.parse().ok())
            .ok_or(SignatureError::Invalid)?;
        if self.clock.now().timestamp() > expires {
            return Err(SignatureError::Expired);
        }
        params.retain(|(k, _)| k != EXPIRES);
        Ok(params)
    }
}

/// The signed string: method, path and the sorted, encoded parameters, one per line.
/// Values are compared decoded, so a client that re-encodes the URL differently still
/// presents the same signature.
fn canonical(method: &str, path: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut out = format!("{method}\n{path}");
    for (key, value) in sorted {
        out.push('\n');
        out.push_str(&utf8_percent_encode(key, QUERY_VALUE).to_string());
        out.push('=');
        out.push_str(&utf8_percent_encode(value, QUERY_VALUE).to_string());
    }
    out
}

fn encode_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_VALUE),
                utf8_percent_encode(v, QUERY_VALUE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UrlSigner {
        UrlSigner::new(
            ServerSecret::new(b"k".to_vec()),
            Clock::default(),
            Duration::from_secs(60),
        )
    }

    fn parse(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn a_signed_url_verifies_and_returns_its_parameters() {
        let s = signer();
        let (query, _) = s.sign(
            "GET",
            "/_storage/private/abc",
            &[("response-content-type", "image/png")],
        );
        let params = s
            .verify("GET", "/_storage/private/abc", &parse(&query))
            .unwrap();
        assert_eq!(
            params,
            vec![("response-content-type".to_owned(), "image/png".to_owned())]
        );
    }

    #[test]
    fn tampering_with_method_path_or_parameters_fails() {
        let s = signer();
        let (query, _) = s.sign("PUT", "/_storage/private/abc", &[("partNumber", "1")]);
        assert_eq!(
            s.verify("GET", "/_storage/private/abc", &parse(&query)),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify("PUT", "/_storage/private/abd", &parse(&query)),
            Err(SignatureError::Invalid)
        );
        let changed = query.replace("partNumber=1", "partNumber=2");
        assert_eq!(
            s.verify("PUT", "/_storage/private/abc", &parse(&changed)),
            Err(SignatureError::Invalid)
        );
        let mut extra = parse(&query);
        extra.push(("response-content-type".to_owned(), "text/html".to_owned()));
        assert_eq!(
            s.verify("PUT", "/_storage/private/abc", &extra),
            Err(SignatureError::Invalid)
        );
        let unsigned: Vec<_> = parse(&query)
            .into_iter()
            .filter(|(k, _)| k != SIGNATURE)
            .collect();
        assert_eq!(
            s.verify("PUT", "/_storage/private/abc", &unsigned),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn an_expired_url_fails() {
        let clock = Clock::default();
        let s = UrlSigner::new(
            ServerSecret::new(b"k".to_vec()),
            clock.clone(),
            Duration::from_secs(60),
        );
        let (query, _) = s.sign("GET", "/x", &[]);
        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(
            s.verify("GET", "/x", &parse(&query)),
            Err(SignatureError::Expired)
        );
    }
}
