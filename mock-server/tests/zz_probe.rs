use mock_server::{MockServer, ServerConfig};
use std::time::Duration;

#[test]
fn probe_threads_race() {
    let mut now = std::collections::BTreeMap::new();
    let mut later = std::collections::BTreeMap::new();
    for _ in 0..50 {
        let s = MockServer::start(ServerConfig {
            threads: 2,
            ..Default::default()
        })
        .unwrap();
        *now.entry(s.stats().threads).or_insert(0) += 1;
        std::thread::sleep(Duration::from_millis(20));
        *later.entry(s.stats().threads).or_insert(0) += 1;
    }
    println!("threads right after start(threads:2): {now:?}; after 20ms: {later:?}");
}
