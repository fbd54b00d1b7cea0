//! Any HTTP endpoint as the target: a URL template with `{id}` (and a
//! method, headers and a body, each of which may hold `{id}` too), and the
//! checks every response must pass. A server concbench did not write has no
//! `/stats` and no deterministic payload, so what verifies a task is its
//! checks ([`Check`]): a status class or code, a length, a substring, a
//! JSON field. A failed check fails the task with cause `check`, naming the
//! check.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::task::TaskError;

/// The placeholder every template holds once, replaced by the task's id.
pub const ID: &str = "{id}";

/// Largest response body an endpoint may send (the mock server's own cap).
pub const MAX_BODY_BYTES: u64 = 64 << 20;

/// An HTTP method an endpoint is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
#[value(rename_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// A user's endpoint: how to call it for task `id`, and what its answer must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `http://host:port/path?query` with `{id}` somewhere in it.
    pub template: String,
    pub method: Method,
    /// `(name, value)` pairs; values may hold `{id}`.
    pub headers: Vec<(String, String)>,
    /// The request body, if any; may hold `{id}`.
    pub body: Option<String>,
    /// Every response is held to these, in order; a status check of `2xx`
    /// is added when none is given.
    pub checks: Vec<Check>,
}

/// Bad endpoint input, said in one line with the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EndpointError {
    #[error("'{0}' is not an http:// URL; write e.g. http://127.0.0.1:8000/items/{{id}}")]
    NotHttp(String),
    #[error("'{0}' has a path but no {{id}}: write where the task's id goes, e.g. http://127.0.0.1:8000/items/{{id}}.json (a mock server's base URL has no path)")]
    NoId(String),
    #[error("'{0}' names no host: write e.g. http://127.0.0.1:8000/items/{{id}}")]
    NoHost(String),
    #[error("header '{0}' must be NAME: VALUE, e.g. 'Accept: application/json'")]
    Header(String),
    #[error("check '{check}': {why}")]
    Check { check: String, why: String },
}

impl Endpoint {
    /// Checks a template: http://, a host, and `{id}` somewhere.
    pub fn parse_template(s: &str) -> Result<String, EndpointError> {
        let rest = s
            .strip_prefix("http://")
            .ok_or_else(|| EndpointError::NotHttp(s.into()))?;
        let host = rest.split(['/', '?']).next().unwrap_or("");
        if host.is_empty() || host.contains(ID) {
            return Err(EndpointError::NoHost(s.into()));
        }
        if !s.contains(ID) {
            return Err(EndpointError::NoId(s.into()));
        }
        Ok(s.to_string())
    }

    /// `host:port` of the template (port 80 when none is given).
    pub fn authority(&self) -> String {
        http_parts(&self.template).map_or_else(String::new, |(a, _)| a)
    }

    /// The URL of task `id`.
    pub fn url(&self, id: u64) -> String {
        self.template.replace(ID, &id.to_string())
    }

    /// The headers of task `id`'s request.
    pub fn headers(&self, id: u64) -> impl Iterator<Item = (&str, String)> {
        let id = id.to_string();
        self.headers
            .iter()
            .map(move |(k, v)| (k.as_str(), v.replace(ID, &id)))
    }

    /// The body of task `id`'s request, if any.
    pub fn body(&self, id: u64) -> Option<String> {
        self.body.as_ref().map(|b| b.replace(ID, &id.to_string()))
    }

    /// Whether a status check is given (else `2xx` applies).
    fn has_status_check(&self) -> bool {
        self.checks.iter().any(|c| matches!(c, Check::Status(_)))
    }

    /// Holds a response to the checks. A status that fails them and that a
    /// retry could cure (429, 5xx) is [`TaskError::Status`], so the retry
    /// policy applies as it does to the mock server.
    pub fn check(&self, status: u16, body: &[u8]) -> Result<(), TaskError> {
        let default = [Check::Status(StatusCheck::Class(2))];
        let implied: &[Check] = if self.has_status_check() {
            &[]
        } else {
            &default
        };
        for c in implied.iter().chain(&self.checks) {
            if let Err(why) = c.holds(status, body) {
                if matches!(c, Check::Status(_)) && (status == 429 || status >= 500) {
                    return Err(TaskError::Status(status));
                }
                return Err(TaskError::Check(format!("check {c} failed: {why}")));
            }
        }
        Ok(())
    }

    /// One line that names the endpoint in reports.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.name(), self.template)
    }
}

/// What a status must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusCheck {
    /// `2xx`: the hundreds digit.
    Class(u16),
    Exact(u16),
}

/// One check of a response (`--check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Check {
    /// `status=2xx` or `status=200`.
    Status(StatusCheck),
    /// `length=N`: the body is exactly N bytes.
    Length(u64),
    /// `contains=TEXT`: the body holds TEXT.
    Contains(String),
    /// `json=/pointer` (the field exists) or `json=/pointer=VALUE` (it
    /// equals VALUE, read as JSON, else as a string): a JSON Pointer (RFC 6901).
    Json {
        pointer: String,
        equals: Option<serde_json::Value>,
    },
}

impl Check {
    fn holds(&self, status: u16, body: &[u8]) -> Result<(), String> {
        match self {
            Check::Status(StatusCheck::Class(c)) if status / 100 == *c => Ok(()),
            Check::Status(StatusCheck::Exact(s)) if status == *s => Ok(()),
            Check::Status(_) => Err(format!("the status was {status}")),
            Check::Length(n) if body.len() as u64 == *n => Ok(()),
            Check::Length(_) => Err(format!("the body was {} bytes", body.len())),
            Check::Contains(text) => {
                let needle = text.as_bytes();
                if needle.is_empty() || body.windows(needle.len()).any(|w| w == needle) {
                    Ok(())
                } else {
                    Err(format!("the {}-byte body does not hold it", body.len()))
                }
            }
            Check::Json { pointer, equals } => {
                let v: serde_json::Value = serde_json::from_slice(body)
                    .map_err(|e| format!("the body is not JSON ({e})"))?;
                let found = v
                    .pointer(pointer)
                    .ok_or_else(|| format!("the body has no field {pointer}"))?;
                match equals {
                    Some(want) if found != want => Err(format!("{pointer} is {found}")),
                    _ => Ok(()),
                }
            }
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Status(StatusCheck::Class(c)) => write!(f, "status={c}xx"),
            Check::Status(StatusCheck::Exact(s)) => write!(f, "status={s}"),
            Check::Length(n) => write!(f, "length={n}"),
            Check::Contains(t) => write!(f, "contains={t}"),
            Check::Json {
                pointer,
                equals: None,
            } => write!(f, "json={pointer}"),
            Check::Json {
                pointer,
                equals: Some(v),
            } => write!(f, "json={pointer}={v}"),
        }
    }
}

impl std::str::FromStr for Check {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, EndpointError> {
        let bad = |why: &str| EndpointError::Check {
            check: s.to_string(),
            why: why.to_string(),
        };
        let (kind, value) = s.split_once('=').ok_or_else(|| {
            bad("write KIND=VALUE: status=2xx, status=200, length=N, contains=TEXT, json=/pointer or json=/pointer=VALUE")
        })?;
        match kind {
            "status" => {
                let v = value.to_ascii_lowercase();
                if let Some(class) = v.strip_suffix("xx") {
                    match class.parse::<u16>() {
                        Ok(c @ 1..=5) => Ok(Check::Status(StatusCheck::Class(c))),
                        _ => Err(bad("a status class is 1xx to 5xx, e.g. status=2xx")),
                    }
                } else {
                    match v.parse::<u16>() {
                        Ok(code @ 100..=599) => Ok(Check::Status(StatusCheck::Exact(code))),
                        _ => Err(bad(
                            "a status is a code from 100 to 599 or a class such as 2xx",
                        )),
                    }
                }
            }
            "length" => crate::units::parse_bytes(value)
                .map(Check::Length)
                .map_err(|e| bad(&format!("{e}; e.g. length=4096"))),
            "contains" if value.is_empty() => {
                Err(bad("give the text to look for, e.g. contains=ok"))
            }
            "contains" => Ok(Check::Contains(value.to_string())),
            "json" => {
                if !value.starts_with('/') {
                    return Err(bad(
                        "a JSON field is a JSON Pointer starting with '/', e.g. json=/status=ok or json=/items/0/id",
                    ));
                }
                // `/pointer=VALUE`: the first '=' after the pointer.
                let (pointer, equals) = match value.split_once('=') {
                    None => (value.to_string(), None),
                    Some((p, v)) => {
                        let parsed = serde_json::from_str(v)
                            .unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
                        (p.to_string(), Some(parsed))
                    }
                };
                Ok(Check::Json { pointer, equals })
            }
            other => Err(bad(&format!(
                "'{other}' is not a kind of check: use status, length, contains or json"
            ))),
        }
    }
}

/// Parses `NAME: VALUE`.
pub fn parse_header(s: &str) -> Result<(String, String), EndpointError> {
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| EndpointError::Header(s.into()))?;
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(EndpointError::Header(s.into()));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// An `http://` URL's two parts, the one reading of URLs every client
/// shares: `host:port` (port 80 when none is given) and what follows the
/// host (`/path?query`, `?query` or nothing). `None` for another scheme.
pub(super) fn http_parts(url: &str) -> Option<(String, &str)> {
    let rest = url.strip_prefix("http://")?;
    let at = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, after) = rest.split_at(at);
    let authority = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    Some((authority, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(checks: &[&str]) -> Endpoint {
        Endpoint {
            template: "http://127.0.0.1:9/items/{id}.json".into(),
            method: Method::Get,
            headers: vec![("x-task".into(), "t{id}".into())],
            body: None,
            checks: checks.iter().map(|c| c.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn templates_need_http_a_host_and_an_id() {
        assert!(Endpoint::parse_template("http://h:1/a/{id}").is_ok());
        assert!(Endpoint::parse_template("http://h/a?id={id}").is_ok());
        assert!(matches!(
            Endpoint::parse_template("http://h:1/a/b"),
            Err(EndpointError::NoId(_))
        ));
        assert!(matches!(
            Endpoint::parse_template("https://h/{id}"),
            Err(EndpointError::NotHttp(_))
        ));
        assert!(matches!(
            Endpoint::parse_template("http:///{id}"),
            Err(EndpointError::NoHost(_))
        ));
    }

    #[test]
    fn the_id_goes_into_the_url_and_the_headers() {
        let e = endpoint(&[]);
        assert_eq!(e.url(42), "http://127.0.0.1:9/items/42.json");
        assert_eq!(e.headers(7).next(), Some(("x-task", "t7".to_string())));
        assert_eq!(e.authority(), "127.0.0.1:9");
    }

    #[test]
    fn checks_parse_print_back_and_hold_or_name_what_failed() {
        for s in [
            "status=2xx",
            "status=404",
            "length=5",
            "contains=ok",
            "json=/a/0",
            "json=/n=3",
        ] {
            assert_eq!(s.parse::<Check>().unwrap().to_string(), s);
        }
        let e = endpoint(&["contains=ok", "json=/n=3"]);
        assert_eq!(e.check(200, br#"{"n":3,"s":"ok"}"#), Ok(()));
        let err = e.check(200, br#"{"n":4,"s":"ok"}"#).unwrap_err();
        assert_eq!(err.cause(), "check");
        assert!(
            err.to_string().contains("json=/n=3") && err.to_string().contains("/n is 4"),
            "{err}"
        );
        let missing = e.check(404, b"").unwrap_err();
        assert!(
            missing.to_string().contains("status=2xx"),
            "the implied check: {missing}"
        );
        assert_eq!(
            e.check(503, b""),
            Err(TaskError::Status(503)),
            "retryable stays a status"
        );
        assert_eq!(endpoint(&["status=404"]).check(404, b""), Ok(()));
    }

    #[test]
    fn malformed_checks_say_what_is_expected() {
        for (s, says) in [
            ("status", "KIND=VALUE"),
            ("status=7xx", "1xx to 5xx"),
            ("length=lots", "length=4096"),
            ("json=a", "JSON Pointer"),
            ("regex=.*", "not a kind of check"),
            ("contains=", "text to look for"),
        ] {
            let err = s.parse::<Check>().unwrap_err().to_string();
            assert!(err.contains(says), "{s}: {err}");
        }
        assert!(parse_header("Accept: */*").is_ok());
        assert!(parse_header("no colon").is_err());
    }
}
