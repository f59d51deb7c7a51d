//! Where webhooks may be sent: `https` URLs whose host is not, and does not resolve to, a
//! loopback, private, link-local, shared, multicast or otherwise reserved address, so that
//! an endpoint cannot make floe call into its own network (cloud metadata services, admin
//! ports). The URL is checked when it is saved, and the addresses are checked again by the
//! resolver the sending client uses, so a name that later re-points at a private address
//! (DNS rebinding) is refused at send time; the connection goes to exactly the addresses
//! that were checked. `--allow-private-webhooks` lifts both rules for development and tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a URL may not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("The URL is not valid.")]
    Invalid,
    #[error("The URL must use https.")]
    NotHttps,
    #[error("The URL must not carry a user name or password.")]
    Credentials,
    #[error("The URL points to a private, loopback or reserved address.")]
    PrivateAddress,
}

/// Checks a URL as given by a client. Names are not resolved here (the answer could change
/// before the first send anyway); the resolver checks them on every send.
pub fn check(raw: &str, allow_private: bool) -> Result<Url, Refused> {
    let url = Url::parse(raw).map_err(|_| Refused::Invalid)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(Refused::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    let host = url.host().ok_or(Refused::Invalid)?;
    if !allow_private {
        match host {
            Host::Ipv4(ip) if is_blocked(IpAddr::V4(ip)) => return Err(Refused::PrivateAddress),
            Host::Ipv6(ip) if is_blocked(IpAddr::V6(ip)) => return Err(Refused::PrivateAddress),
            Host::Domain(name) if is_local_name(name) => return Err(Refused::PrivateAddress),
            _ => {}
        }
    }
    Ok(url)
}

/// Names that are local by definition, whatever a resolver says.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
        || name.ends_with(".internal")
        || !name.contains('.')
}

/// Whether floe must not connect to `ip`.
pub fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_blocked_v4(v4);
            }
            let segments = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address in the last 32 bits.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return is_blocked_v4(Ipv4Addr::new(a, b, c, d));
            }
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
                || (segments[0] & 0xffc0) == 0xfec0 // site-local, fec0::/10
                || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0)
        }
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, where cloud metadata services answer
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared address space, 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
}

/// The resolver of the sending client: resolves with the system resolver, then refuses
/// the name if any address it has is blocked.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            if !allow_private && is_local_name(&host) {
                return Err(Box::new(Refused::PrivateAddress) as Box<_>);
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = check_resolved(addrs, allow_private)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Checks where a saved URL's host resolves to now: a name whose addresses include a blocked
/// one is refused. A name that does not resolve (yet) is accepted; the sending resolver checks
/// it again on every send.
pub async fn check_resolves(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let lookup = tokio::net::lookup_host((name, url.port_or_known_default().unwrap_or(443)));
    match tokio::time::timeout(std::time::Duration::from_secs(3), lookup).await {
        Ok(Ok(addrs)) => check_resolved(addrs.collect(), false)
            .map(|_| ())
            .or_else(|refused| {
                if refused == Refused::Invalid {
                    Ok(())
                } else {
                    Err(refused)
                }
            }),
        _ => Ok(()),
    }
}

/// The addresses a name resolved to, if floe may connect to them: one blocked address
/// refuses the whole name (a name that points anywhere private is not trusted at all).
pub fn check_resolved(
    addrs: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Refused> {
    if addrs.is_empty() {
        return Err(Refused::Invalid);
    }
    if !allow_private && addrs.iter().any(|a| is_blocked(a.ip())) {
        return Err(Refused::PrivateAddress);
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_addresses() {
        let public = SocketAddr::from(([93, 184, 215, 14], 0));
        let private = SocketAddr::from(([10, 0, 0, 7], 0));
        assert_eq!(check_resolved(vec![public], false), Ok(vec![public]));
        // A name that (re)binds to a private address, even beside a public one, is refused.
        assert_eq!(
            check_resolved(vec![public, private], false),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(check_resolved(vec![private], true), Ok(vec![private]));
        assert_eq!(check_resolved(vec![], false), Err(Refused::Invalid));
    }

    /// The sending client's resolver checks what the system resolver answers.
    #[tokio::test]
    async fn the_sending_resolver_refuses_private_answers() {
        let name = |text: &str| text.parse::<Name>().ok();
        let (Some(loopback), Some(again)) = (name("127.0.0.1"), name("127.0.0.1")) else {
            panic!("names parse");
        };
        assert!(
            GuardedResolver {
                allow_private: false
            }
            .resolve(loopback)
            .await
            .is_err()
        );
        assert!(
            GuardedResolver {
                allow_private: true
            }
            .resolve(again)
            .await
            .is_ok()
        );
    }

    #[test]
    fn urls() {
        assert!(check("https://hooks.example.com/polar", false).is_ok());
        assert_eq!(
            check("http://hooks.example.com/", false),
            Err(Refused::NotHttps)
        );
        assert_eq!(
            check("ftp://hooks.example.com/", false),
            Err(Refused::NotHttps)
        );
        assert_eq!(check("not a url", false), Err(Refused::Invalid));
        assert_eq!(
            check("https://u:p@hooks.example.com/", false),
            Err(Refused::Credentials)
        );
        for private in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.100.100.200/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://metadata.google.internal/",
            "https://intranet/",
            "https://2130706433/", // 127.0.0.1 written as one number
        ] {
            assert_eq!(
                check(private, false),
                Err(Refused::PrivateAddress),
                "{private}"
            );
        }
        assert!(check("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(check("https://8.8.8.8/", false).is_ok());
        assert!(check("https://[2606:4700::1111]/", false).is_ok());
    }
}
