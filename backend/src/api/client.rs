//! Who is calling. The client address is the socket peer, unless the peer is a proxy listed in
//! `TRUSTED_PROXIES`: only then is `X-Forwarded-For` read, from the right, skipping trusted
//! hops. A client that is not a trusted proxy can put anything in that header and change
//! nothing, so throttles keyed by address cannot be sidestepped by spoofing it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use poem::Request;

use crate::auth::ClientInfo;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip.to_canonical()))
    }

    /// Whether `req` came straight from one of these proxies (whose headers are then believed).
    pub fn trusts_peer(&self, req: &Request) -> bool {
        req.remote_addr()
            .as_socket_addr()
            .is_some_and(|addr| self.trusts(addr.ip()))
    }

    /// The client's address, given the socket peer and the `X-Forwarded-For` values in order.
    pub fn client_address<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(|ip| ip.to_canonical())?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        // Each trusted proxy appended the address it saw; walk back until one did not come
        // from a trusted proxy. An entry we cannot read ends the walk at the last trusted hop.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return Some(ip),
                None => return Some(client),
            }
        }
        Some(client)
    }
}

/// A forwarded address: bare, or with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client address, decided once per request by the logging middleware.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

/// Decides the client address of `req` and stores it in its extensions.
pub fn resolve(req: &mut Request, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    let ip = proxies.client_address(peer, forwarded.iter().map(String::as_str));
    req.extensions_mut().insert(ClientAddr(ip));
    ip
}

/// The caller as the `auth` layer records it.
pub fn client_info(req: &Request) -> ClientInfo {
    let ip = req.extensions().get::<ClientAddr>().and_then(|addr| addr.0);
    ClientInfo::new(req.header("user-agent"), ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(Some(ip("203.0.113.9")), ["198.51.100.1"]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof_the_header() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_address(Some(ip("203.0.113.9")), ["10.1.1.1"]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_read_from_the_right() {
        let p = proxies(&["10.0.0.0/8"]);
        // The client sent a forged first entry; the proxy appended the real address.
        assert_eq!(
            p.client_address(Some(ip("10.0.0.2")), ["1.1.1.1, 198.51.100.7"]),
            Some(ip("198.51.100.7"))
        );
        // Two trusted hops in a chain, over two header lines.
        assert_eq!(
            p.client_address(Some(ip("10.0.0.2")), ["198.51.100.7, 10.9.9.9", "10.0.0.3"]),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn junk_in_the_header_stops_at_the_last_trusted_hop() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_address(Some(ip("10.0.0.2")), ["198.51.100.7, garbage, 10.0.0.5"]),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            p.client_address(Some(ip("10.0.0.2")), [""]),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        let p = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            p.client_address(Some(ip("::ffff:127.0.0.1")), ["[2001:db8::1]:443"]),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            p.client_address(Some(ip("127.0.0.1")), ["192.0.2.1:5678"]),
            Some(ip("192.0.2.1"))
        );
    }
}
