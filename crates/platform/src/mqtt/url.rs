//! Broker URLs: `mqtt://host:port` (also `tcp://`, `mqtts://`, a bare `host:port` or `host`),
//! parsed by `rumqttc::MqttOptions::parse_url`, so credentials (`mqtt://user:pass@host`) and
//! rumqttc's query options (`?keep_alive_secs=…&inflight_num=…`) work too.

use rumqttc::MqttOptions;

/// Why a broker URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("mqtt.url `{url}` is not a broker URL like mqtt://host:1883: {reason}")]
    Invalid { url: String, reason: String },
}

/// Connection options for `url` under `client_id` (which overrides any `client_id` in the URL).
pub fn broker_options(url: &str, client_id: &str) -> Result<MqttOptions, UrlError> {
    let bad = |reason: String| UrlError::Invalid {
        url: url.to_string(),
        reason,
    };
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(bad("empty".into()));
    }
    let mut full = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("mqtt://{trimmed}")
    };
    // parse_url insists on a client id in the query; ours replaces it below.
    full.push(if full.contains('?') { '&' } else { '?' });
    full.push_str("client_id=qcity");
    let mut opts = MqttOptions::parse_url(full).map_err(|e| bad(e.to_string()))?;
    if opts.broker_address().0.is_empty() {
        return Err(bad("no host".into()));
    }
    opts.set_client_id(client_id.to_string());
    Ok(opts)
}

/// Host and port of a broker URL (tests and tools that publish to the same broker).
pub fn broker_address(url: &str) -> Option<(String, u16)> {
    broker_options(url, "qcity")
        .ok()
        .map(|o| o.broker_address())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_urls_parse() {
        assert_eq!(
            broker_address("mqtt://127.0.0.1:1883"),
            Some(("127.0.0.1".into(), 1883))
        );
        assert_eq!(
            broker_address("mqtt://broker:1884/"),
            Some(("broker".into(), 1884))
        );
        assert_eq!(
            broker_address("tcp://broker:1883"),
            Some(("broker".into(), 1883))
        );
        assert_eq!(broker_address("broker"), Some(("broker".into(), 1883)));
        assert_eq!(broker_address("broker:2883"), Some(("broker".into(), 2883)));
        assert!(broker_address("").is_none());
        assert!(broker_address("mqtt://:1883").is_none());
        assert!(broker_address("http://broker:1883").is_none());
        assert!(broker_address("mqtt://broker:notaport").is_none());
        let o = broker_options(
            "mqtt://u:p@broker:1883?client_id=other&keep_alive_secs=7",
            "me",
        )
        .expect("valid");
        assert_eq!(o.client_id(), "me");
        assert_eq!(o.keep_alive(), std::time::Duration::from_secs(7));
        assert_eq!(o.credentials().map(|l| l.username), Some("u".to_string()));
    }
}
