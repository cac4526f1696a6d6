//! Who sent a request. The peer address is the client unless the peer is a
//! configured trusted proxy; only then are `Forwarded` / `X-Forwarded-For`
//! read, right to left, skipping further trusted proxies. Anyone can write
//! those headers, so from anyone else they are ignored.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;
use ipnet::IpNet;

/// The client's address, as far as the configured proxies let us know it.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let chain = forwarded_chain(req);
    let mut client = peer;
    for hop in chain.iter().rev() {
        client = *hop;
        if !is_trusted(*hop, trusted) {
            break;
        }
    }
    Some(client)
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&ip))
}

/// The addresses a request passed through, first hop first: `Forwarded`'s
/// `for=` values when that header is present, else `X-Forwarded-For`. A
/// value that is not an address (`unknown`, an obfuscated name) ends the
/// chain there, so nothing before it is believed.
fn forwarded_chain(req: &HttpRequest) -> Vec<IpAddr> {
    let headers = req.headers();
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .collect();
    let raw: Vec<String> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let mut chain = Vec::new();
    for value in raw {
        match parse_node(&value) {
            Some(ip) => chain.push(ip),
            // Everything to the left of an unreadable hop is unverifiable.
            None => chain.clear(),
        }
    }
    chain
}

/// `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = value.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let peer = "10.0.0.5:4000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "203.0.113.9, 198.51.100.7"))
            .to_http_request();
        // Not trusted: the headers are ignored.
        assert_eq!(client_ip(&req, &[]), Some("10.0.0.5".parse().unwrap()));
        // The balancer is trusted: its right-most untrusted hop is the client.
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("198.51.100.7".parse().unwrap())
        );
        // Two proxies trusted: one further left.
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8", "198.51.100.7/32"])),
            Some("203.0.113.9".parse().unwrap())
        );
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header((
                "forwarded",
                "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
            ))
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("2001:db8::1".parse().unwrap())
        );
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "unknown"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &nets(&["10.0.0.0/8"])),
            Some("10.0.0.5".parse().unwrap())
        );
    }
}
