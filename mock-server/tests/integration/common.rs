//! Shared by the mock server's integration tests: starting a server, a
//! well-behaved ureq client and what it got back, and a bounded wait.

use std::thread;
use std::time::{Duration, Instant};

use mock_server::{MockServer, ServerConfig, ServerHandle};

/// A server on 127.0.0.1 and a free port.
pub fn start(config: ServerConfig) -> ServerHandle {
    MockServer::start(config).expect("the server starts on a free port")
}

/// Polls `cond` every millisecond until it holds; panics after 5 s.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A keep-alive agent that hands back 4xx/5xx as responses, ignores proxy
/// settings from the environment and never waits longer than 10 s.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// One complete answer: status, headers and the whole body.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

fn read_reply(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut resp = resp.expect("the request reaches the server and is answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("the whole body arrives");
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(agent: &ureq::Agent, url: &str) -> Reply {
    read_reply(agent.get(url).call())
}

pub fn post(agent: &ureq::Agent, url: &str) -> Reply {
    read_reply(agent.post(url).send_empty())
}
