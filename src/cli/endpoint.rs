//! The flags of a target that is not a mock server: `--target` with `{id}`
//! in it, and how each request is made and checked (`--method`,
//! `--header`, `--body`, `--check`).

use std::sync::Arc;

use clap::Args;

use crate::error::UsageError;
use crate::http::endpoint::{parse_header, Check, Endpoint, Method};

/// Flags of a user's endpoint (they need `--target` with `{id}`).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Your own endpoint (--target with {id})")]
pub struct EndpointArgs {
    /// HTTP method of each request to a --target template.
    #[arg(long, value_enum, default_value_t = Method::Get)]
    pub method: Method,
    /// A request header, 'NAME: VALUE' ({id} is replaced); may be given several times.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header_flag)]
    pub headers: Vec<(String, String)>,
    /// The request body ({id} is replaced), e.g. '{"id": {id}}'.
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,
    /// A check every response must pass: status=2xx, status=404, length=N, contains=TEXT,
    /// json=/pointer (the field exists) or json=/pointer=VALUE; may be given several
    /// times. A failed check fails the task with cause `check`. Without a status check,
    /// status=2xx applies.
    #[arg(long = "check", value_name = "KIND=VALUE", value_parser = parse_check)]
    pub checks: Vec<Check>,
}

fn parse_header_flag(s: &str) -> Result<(String, String), String> {
    parse_header(s).map_err(|e| e.to_string())
}

fn parse_check(s: &str) -> Result<Check, String> {
    s.parse::<Check>().map_err(|e| e.to_string())
}

impl EndpointArgs {
    /// The endpoint `target` and these flags describe: `None` for a mock
    /// server's base URL (and then none of these flags may be given).
    pub fn endpoint(
        &self,
        target: Option<&str>,
        given: impl Fn(&str) -> bool,
    ) -> Result<Option<Arc<Endpoint>>, UsageError> {
        let template = target.filter(|t| t.contains(crate::http::endpoint::ID));
        let Some(template) = template else {
            for (id, flag) in [
                ("method", "--method"),
                ("headers", "--header"),
                ("body", "--body"),
                ("checks", "--check"),
            ] {
                if given(id) {
                    return Err(UsageError::new(
                        flag,
                        "is for a --target that is not a mock server: give --target a URL \
                         template with {id}, e.g. http://127.0.0.1:8000/items/{id}",
                    ));
                }
            }
            return Ok(None);
        };
        Ok(Some(Arc::new(Endpoint {
            template: template.to_string(),
            method: self.method,
            headers: self.headers.clone(),
            body: self.body.clone(),
            checks: self.checks.clone(),
        })))
    }
}
